"""Security policy of the rendered platform: the rules of `aiplat-gen check --policy` and the
profile's declared exceptions, rendered as the annotations the common scanners understand."""
