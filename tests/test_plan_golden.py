"""Golden files of `aiplat-gen plan`: for every profile of the example profiles and of each
`tests/golden_plan/<case>/profiles/`, the text and JSON output equal `expected/<profile>.txt`
and `.json` byte for byte.

After a deliberate change run `pytest tests/test_plan_golden.py --update-golden`, then review
every changed line of `tests/golden_plan/` before committing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from conftest import REPO

GOLDEN = REPO / "tests" / "golden_plan"
CASES = {"examples": REPO / "profiles"} | {
    p.name: p / "profiles" for p in sorted(GOLDEN.iterdir()) if (p / "profiles").is_dir()}
OUTPUTS = {"txt": ("--format", "text"), "json": ("--format", "json")}


def _profiles(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.yaml"))


@pytest.mark.parametrize("case", sorted(CASES))
def test_plan_golden(case: str, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch,
                     request: pytest.FixtureRequest) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    folder = CASES[case]
    expected_dir = GOLDEN / case / "expected"
    actual: dict[str, str] = {}
    for name in _profiles(folder):
        for suffix, options in OUTPUTS.items():
            result = cli("plan", name, "--profiles-dir", str(folder), *options)
            assert result.exit_code == 0, result.output
            actual[f"{name}.{suffix}"] = result.stdout
    if request.config.getoption("--update-golden"):
        expected_dir.mkdir(parents=True, exist_ok=True)
        for old in expected_dir.iterdir():
            old.unlink()
        for rel, text in actual.items():
            (expected_dir / rel).write_text(text, encoding="utf-8")
    expected = {p.name: p.read_text(encoding="utf-8") for p in sorted(expected_dir.iterdir())}
    assert sorted(actual) == sorted(expected), "missing or extra golden files"
    for rel, text in expected.items():
        assert actual[rel] == text, f"{case}: {rel} differs from the golden file"
