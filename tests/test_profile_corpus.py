"""Profile corpora: every valid case validates; every invalid case fails with exactly the
diagnostics in `<case>.errors.txt`, exit 1, and a render writes nothing.

A new case needs no Python: add `tests/profiles/invalid/<case>.yaml` and its `.errors.txt`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from conftest import REPO

CORPUS = REPO / "tests" / "profiles"
INVALID = sorted(p.stem for p in (CORPUS / "invalid").glob("*.yaml"))
VALID = sorted(p.stem for p in (CORPUS / "valid").glob("*.yaml"))


def _errors(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if not line.startswith("aiplat-gen:")]


@pytest.mark.parametrize("case", INVALID)
def test_invalid_profile(case: str, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch,
                         tmp_path: Path) -> None:
    folder = CORPUS / "invalid"
    monkeypatch.chdir(folder)
    expected = (folder / f"{case}.errors.txt").read_text(encoding="utf-8").splitlines()
    result = cli("validate", f"{case}.yaml", "--profiles-dir", ".")
    assert result.exit_code == 1, result.output
    assert _errors(result) == expected
    for line in _errors(result):
        if line.startswith(" "):  # the quoted source line of a syntax error, and its caret
            continue
        assert line.startswith(f"{case}.yaml:") or line.split(":", 1)[0].endswith(".yaml")
        assert f"[profile {case}" in line, "every diagnostic names its profile"
    out = tmp_path / "output"
    rendered = cli("render", f"{case}.yaml", "--profiles-dir", ".", "--out", str(out))
    assert rendered.exit_code == 1, rendered.output
    assert not out.exists(), "an invalid profile must write nothing"


@pytest.mark.parametrize("case", VALID)
def test_valid_profile(case: str, cli: Callable[..., Result],
                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CORPUS / "valid")
    result = cli("validate", f"{case}.yaml", "--profiles-dir", ".")
    assert result.exit_code == 0, result.output


def test_every_invalid_case_has_expectations() -> None:
    folder = CORPUS / "invalid"
    missing = [c for c in INVALID if not (folder / f"{c}.errors.txt").is_file()]
    orphans = [p.name for p in folder.glob("*.errors.txt")
               if not (folder / p.name.replace(".errors.txt", ".yaml")).is_file()]
    assert not missing and not orphans
