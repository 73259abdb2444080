"""Fact tables the cross-layer checks rely on: GPU products and MIG profiles, model architectures.

Every figure carries the public document it was taken from (the `source` field of each entry).
A figure that could not be confirmed is left out rather than guessed.
"""
