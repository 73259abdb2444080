"""Hints for names that do not resolve: the closest match, or a short list of what exists."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

MAX_LISTED = 8


def did_you_mean(value: str, choices: Iterable[str], none: str = "") -> str:
    """`did you mean 'x'?` for a close match; else the known names (at most MAX_LISTED, sorted,
    with a count of the rest); `none` when there are no choices at all."""
    names = sorted(set(choices))
    close = difflib.get_close_matches(value, names, n=1)
    if close:
        return f"did you mean {close[0]!r}?"
    if not names:
        return none
    shown = ", ".join(names[:MAX_LISTED])
    more = len(names) - MAX_LISTED
    return f"known: {shown}" + (f" and {more} more" if more > 0 else "")
