"""Paths in a profile (`spec.models[1].gpus`) and where each value was written: every
diagnostic about a profile value is placed with a `Locator`."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from aiplat_gen.core.errors import Diagnostic, Position, Severity
from aiplat_gen.core.hints import listed

Loc = tuple[str | int, ...]

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def format_path(loc: Loc) -> str:
    """`('spec', 'models', 1, 'gpus')` -> `spec.models[1].gpus`."""
    out = ""
    for part in loc:
        if part == "[key]":  # pydantic's marker for an invalid mapping key: the key's own path
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        elif not _PLAIN_KEY.match(part):
            out += f"[{json.dumps(part)}]"
        else:
            out += f".{part}" if out else part
    return out


@dataclass(frozen=True)
class Locator:
    """Finds the source position of a path in the merged profile; `files` are the files of its
    `extends` chain, root first (a value written in a later one overrides the earlier ones)."""

    positions: dict[Loc, Position]
    fallback: Position
    files: tuple[str, ...] = ()

    def at(self, loc: Loc) -> Position:
        """The position of the value at loc, or of its nearest ancestor that exists."""
        for end in range(len(loc), -1, -1):
            pos = self.positions.get(tuple(loc[:end]))
            if pos is not None:
                return pos
        return self.fallback

    def diagnostic(self, loc: Loc, message: str, hint: str = "",
                   severity: Severity = Severity.ERROR) -> Diagnostic:
        """A diagnostic for the value at loc."""
        return Diagnostic(self.at(loc), format_path(loc), message, hint, severity)

    def relation(self, loc: Loc, others: Sequence[Loc], message: str, hint: str = "",
                 severity: Severity = Severity.ERROR) -> Diagnostic:
        """A diagnostic for a relation between the value at loc and the values at `others`
        (a quota and the replicas it must hold): placed at whichever of them was written in the
        most-derived profile of the chain (loc on a tie), since that is the edit that broke
        the relation, and naming where the others are written."""
        candidates = list(dict.fromkeys([tuple(loc), *(tuple(o) for o in others)]))
        chosen = max(candidates, key=self._depth)  # the first of the deepest
        places = [f"{format_path(o)} at {self.positions[o]}" for o in candidates
                  if o != chosen and o in self.positions]
        if places:
            message += f"; compared with {listed(places, limit=3)}"
        return Diagnostic(self.at(chosen), format_path(chosen), message, hint, severity)

    def _depth(self, loc: Loc) -> int:
        """How far down the chain the value at loc was written (-1: not written, a default)."""
        pos = self.positions.get(loc)
        if pos is None:
            return -1
        return self.files.index(pos.file) if pos.file in self.files else 0
