"""Paths in a profile (`spec.models[1].gpus`) and where each value was written: every
diagnostic about a profile value is placed with a `Locator`."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from aiplat_gen.core.errors import Diagnostic, Position, Severity

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
    """Finds the source position of a path in the merged profile."""

    positions: dict[Loc, Position]
    fallback: Position

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
