"""Components: one module per part of the platform, each turning the profile into objects.

The registry (`components.registry`) lists them in render order. It lives in its own module so
that importing one component (the checks read constants from several) loads only that one.
"""
