"""Hints for names that do not resolve: the closest match, or a short list of what exists."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

MAX_LISTED = 8
"""The most items of a variable-length list a message names; the rest are counted."""


def listed(items: Sequence[str], limit: int = MAX_LISTED, sep: str = ", ") -> str:
    """`a, b, c` when there are at most `limit` items, else the first `limit` and
    `... and 192 more`: every message that joins a list of any length joins it here, so that
    200 models make one readable line, not a wall of text."""
    if len(items) <= limit:
        return sep.join(items)
    return f"{sep.join(items[:limit])} ... and {len(items) - limit} more"


def did_you_mean(value: str, choices: Iterable[str], none: str = "") -> str:
    """`did you mean 'x'?` for a close match; else the known names (at most MAX_LISTED, sorted,
    with a count of the rest); `none` when there are no choices at all."""
    names = sorted(set(choices))
    close = difflib.get_close_matches(value, names, n=1)
    if close:
        return f"did you mean {close[0]!r}?"
    if not names:
        return none
    return f"known: {listed(names)}"
