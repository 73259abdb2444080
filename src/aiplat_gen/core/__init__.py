"""Foundations every layer may use: diagnostics and errors, YAML I/O, hints, the cache folder."""
