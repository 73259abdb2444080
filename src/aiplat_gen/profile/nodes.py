"""The tree a profile file loads into, and the limits both YAML paths (`loader`, `loader_fast`)
enforce on it."""

from __future__ import annotations

from dataclasses import dataclass

from aiplat_gen.core.errors import Position

MAX_NODES = 100_000
MAX_DEPTH = 64
MAX_INTEGER = 2**63 - 1  # Kubernetes integers are at most 64 bits

Scalar = str | int | float | bool | None


@dataclass
class Node:
    """A YAML value (mapping of Nodes, list of Nodes, or scalar) with the place it was written."""

    value: dict[str, Node] | list[Node] | Scalar
    pos: Position
