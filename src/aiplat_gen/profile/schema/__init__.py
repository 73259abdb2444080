"""Typed, frozen pydantic models of the platform profile: the only shape data has past loading."""
