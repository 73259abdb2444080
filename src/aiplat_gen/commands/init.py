"""`aiplat-gen init`: starter files in a folder, never overwriting one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aiplat_gen.render import scaffold


@dataclass(frozen=True)
class InitRequest:
    """What to scaffold, and where."""

    folder: Path
    ci: str | None = None
    example: str | None = None
    ci_source: str | None = None
    """With `ci`: `URL@REF`, where CI installs aiplat-gen from."""


@dataclass(frozen=True)
class InitResult:
    """The files written, and the next commands to run (empty without an example)."""

    written: list[Path]
    next_step: str


def init(request: InitRequest) -> InitResult:
    """Write the starter files."""
    written = scaffold.init(request.folder, ci=request.ci, example=request.example,
                             ci_source=request.ci_source)
    next_step = "" if request.example is None else (
        "next: aiplat-gen plan prod && aiplat-gen render --all && aiplat-gen check --all")
    return InitResult(list(written), next_step)


def report(result: InitResult) -> str:
    """What was written, one line a file, then the next step."""
    lines = [f"wrote {path}" for path in result.written]
    if result.next_step:
        lines.append(result.next_step)
    return "".join(f"{line}\n" for line in lines)
