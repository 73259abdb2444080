"""Print diagnostics as text, JSON, or GitHub Actions annotations."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence

from aiplat_gen.core.errors import Diagnostic, Severity


def default_format() -> str:
    """GitHub annotations inside GitHub Actions, plain text elsewhere."""
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"


def format_diagnostics(diagnostics: Sequence[Diagnostic], fmt: str) -> str:
    """Render diagnostics in one of FORMATS (text when fmt is another); an empty string when
    there are none (text, github)."""
    return REPORTERS.get(fmt, _text)(diagnostics)


def _text(diagnostics: Sequence[Diagnostic]) -> str:
    return "".join(f"{d}\n" for d in diagnostics)


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
    return f"::{level}{where}::{_escape(text)}"


REPORTERS: dict[str, Callable[[Sequence[Diagnostic]], str]] = {
    "text": _text, "json": _json, "github": _github_all}
FORMATS = tuple(REPORTERS)
