"""`aiplat-gen explain PATH`: a profile field's whole documentation, with the values aiplat-gen's
fact tables know for fields checked against them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from aiplat_gen.platform.facts.gpus import GPU_PRODUCTS
from aiplat_gen.platform.facts.models import ARCHITECTURES
from aiplat_gen.profile.jsonschema import explain as describe

KNOWN_VALUES: Mapping[str, Sequence[str]] = MappingProxyType({
    "spec.models.architecture": tuple(ARCHITECTURES),
    "spec.nodePools.gpu.product": tuple(GPU_PRODUCTS),
})
"""Fields whose values the checks look up in a fact table (the profile schema takes any
string there), by dotted path without list indexes."""


def explain(path: str) -> str:
    """The documentation of the profile field at a dotted path."""
    return describe(path, KNOWN_VALUES)
