"""Print diagnostics as text, JSON, or GitHub Actions annotations."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence

from aiplat_gen.core.errors import Diagnostic, Severity, merge_duplicates


def default_format() -> str:
    """GitHub annotations inside GitHub Actions, plain text elsewhere."""
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"


def format_diagnostics(diagnostics: Sequence[Diagnostic], fmt: str) -> str:
    """Render diagnostics in one of FORMATS (text when fmt is another); an empty string when
    there are none (text, github). Diagnostics with one root cause are shown once, with every
    profile they affect."""
    return REPORTERS.get(fmt, _text)(merge_duplicates(diagnostics))


def _text(diagnostics: Sequence[Diagnostic]) -> str:
    return "".join(f"{d}\n{_excerpt(d)}" for d in diagnostics)


def _excerpt(d: Diagnostic) -> str:
    """The source line a diagnostic points into, quoted, with a caret under its column:

        5 |   image: repo:tag: x
          |                  ^
    """
    if not d.excerpt or d.position is None:
        return ""
    number = str(d.position.line)
    caret = " " * (d.position.column - 1) + "^"
    return f"  {number} | {d.excerpt}\n  {' ' * len(number)} | {caret}\n"


def _json(diagnostics: Sequence[Diagnostic]) -> str:
    return json.dumps([_as_dict(d) for d in diagnostics], indent=2) + "\n"


def _github_all(diagnostics: Sequence[Diagnostic]) -> str:
    return "".join(_github(d) + "\n" for d in diagnostics)


def _as_dict(d: Diagnostic) -> dict[str, object]:
    return {
        "file": d.position.file if d.position else None,
        "line": d.position.line if d.position else None,
        "column": d.position.column if d.position else None,
        "path": d.path,
        "severity": d.severity.value,
        "message": d.message,
        "hint": d.hint,
        "source": d.excerpt or None,
        # each profile with its `extends` chain, root first and the profile last (null when unread)
        "profiles": [{"name": p.name, "chain": list(p.chain) or None} for p in d.profiles],
    }


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github(d: Diagnostic) -> str:
    level = "warning" if d.severity is Severity.WARNING else "error"
    where = ""
    if d.position:
        where = f" file={d.position.file},line={d.position.line},col={d.position.column}"
    text = f"{d.path}: {d.message}" if d.path else d.message
    if d.hint:
        text += f" ({d.hint})"
    if d.profiles:
        text += f" [{d.profiles_text()}]"
    return f"::{level}{where}::{_escape(text)}"


REPORTERS: dict[str, Callable[[Sequence[Diagnostic]], str]] = {
    "text": _text, "json": _json, "github": _github_all}
FORMATS = tuple(REPORTERS)
