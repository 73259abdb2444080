"""The code stays clean: ruff (pyflakes, pycodestyle, bugbear, pyupgrade, isort, pathlib) and
mypy --strict with the pydantic plugin, as configured in pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import REPO

BIN = Path(sys.executable).parent


def test_ruff() -> None:
    proc = subprocess.run([str(BIN / "ruff"), "check", "--output-format", "concise", "src",
                           "tests", "benchmarks"], cwd=REPO, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_strict(tmp_path: Path) -> None:
    proc = subprocess.run([str(BIN / "mypy"), "--cache-dir", str(tmp_path / "cache"), "src"],
                          cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
