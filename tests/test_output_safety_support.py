"""Helpers of the output-safety tests (`test_output_safety*.py`); no tests here.

Scenario: the example profiles are rendered (state A); then three profiles change (state B:
prod's GPU quota, staging's H100 pool size, which removes a patch, and a new namespace in dev,
which adds files in new folders), and B is rendered over A.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from aiplat_gen.cli import app
from aiplat_gen.output import writer
from conftest import REPO, tree_bytes

AIPLAT_GEN = Path(sys.executable).parent / "aiplat-gen"
EDITS_B = {
    "prod": [("gpus: 40", "gpus: 32")],
    "staging": [("      nodes: 1\n", "      nodes: 2\n")],
    "dev": [("  namespaces:\n", "  namespaces:\n    - name: batch-jobs\n      purpose: batch\n")],
}


def profiles_with(folder: Path, edits: dict[str, list[tuple[str, str]]]) -> Path:
    """A copy of the example profiles in `folder` with each (old, new) text edit made once."""
    shutil.copytree(REPO / "profiles", folder)
    for name, changes in edits.items():
        path = folder / f"{name}.yaml"
        text = path.read_text(encoding="utf-8")
        for old, new in changes:
            assert text.count(old) == 1, (name, old)
            text = text.replace(old, new)
        path.write_text(text, encoding="utf-8")
    return folder


def render(profiles: Path, out: Path, *extra: str) -> Result:
    """`aiplat-gen render --all` of a profiles folder into `out`, in-process."""
    return CliRunner().invoke(app, ["render", "--all", "--profiles-dir", str(profiles),
                                    "--out", str(out), *extra])


def snapshot(root: Path) -> tuple[dict[str, bytes], list[str]]:
    """Every file's bytes and every folder (so that empty leftovers count too)."""
    folders = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_dir())
    return tree_bytes(root), folders


def record_matches_files(out: Path) -> None:
    """The record lists exactly the files on disk, each with its real sha256."""
    record = json.loads((out / writer.RECORD).read_text(encoding="utf-8"))["files"]
    on_disk = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()} - {writer.RECORD}
    assert set(record) == on_disk
    for rel, entry in record.items():
        assert hashlib.sha256((out / rel).read_bytes()).hexdigest() == entry["sha256"], rel


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Profiles A and B, the tree of A (pristine), and what `writer.apply` receives for B (a
    fixture: import it into a test module to use it there)."""
    root = tmp_path_factory.mktemp("states")
    a, b = profiles_with(root / "A", {}), profiles_with(root / "B", EDITS_B)
    pristine = root / "pristine"
    assert render(a, pristine).exit_code == 0
    captured: dict[str, Any] = {}
    real_apply = writer.apply

    def capture(out: Path, files: dict[str, str], owners: dict[str, str],
                scope: set[str] | None, force: bool = False) -> writer.Outcome:
        captured.update(files=files, owners=owners, scope=scope)
        return real_apply(out, files, owners, scope, force)

    scratch = root / "scratch"
    shutil.copytree(pristine, scratch)
    writer.apply = capture
    try:
        result = render(b, scratch)
    finally:
        writer.apply = real_apply
    assert result.exit_code == 0, result.output
    assert "1 removed" in result.stdout
    return {"A": a, "B": b, "pristine": pristine, "apply_b": captured,
            "tree_b": snapshot(scratch)}


