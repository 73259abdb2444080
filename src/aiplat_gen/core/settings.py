"""Where a command finds profiles and template overrides and writes its output."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Where profiles, output and template overrides live."""

    profiles_dir: Path = Path("profiles")
    out_dir: Path = Path("output")
    templates_dir: Path | None = None
