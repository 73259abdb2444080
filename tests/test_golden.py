"""Golden trees: each `tests/golden/<case>/profiles/` renders to exactly `expected/`.

Run `pytest tests/test_golden.py --update-golden` to rewrite the expected trees after a
deliberate change, then review the diff before committing.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from conftest import REPO, tree_bytes

GOLDEN = REPO / "tests" / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "profiles").is_dir())


@pytest.mark.parametrize("case", CASES)
def test_golden_tree(case: str, tmp_path: Path, cli: Callable[..., Result],
                     request: pytest.FixtureRequest) -> None:
    source = GOLDEN / case
    out = tmp_path / "output"
    result = cli("render", "--all", "--profiles-dir", str(source / "profiles"), "--out", str(out))
    assert result.exit_code == 0, result.output
    expected_dir = source / "expected"
    if request.config.getoption("--update-golden"):
        shutil.rmtree(expected_dir, ignore_errors=True)
        shutil.copytree(out, expected_dir)
    actual = tree_bytes(out)
    expected = tree_bytes(expected_dir)
    assert sorted(actual) == sorted(expected), "missing or extra files"
    for rel, data in expected.items():
        assert actual[rel] == data, f"{case}: {rel} differs from the golden file"
