"""`check` against hostile schemas and caches (issue 16, items 6, 15, 16, 17): each is a finding
(exit 1) or a clear error (exit 2), never an internal error, a hang or a memory blow-up; a
poisoned schema cache is prepared again."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import Result

from test_fuzz_support import run

APPLICATION = Path("argoproj.io") / "application_v1alpha1.json"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory, shared: Path) -> Iterator[Path]:
    """`dev` rendered once, and a copy of the CRD schemas to spoil."""
    root = tmp_path_factory.mktemp("hostile-check")
    shutil.copytree(Path(__file__).parents[1] / "profiles", root / "profiles")
    shutil.copytree(shared / "schemas" / "crds", root / "crds")
    previous = Path.cwd()
    os.chdir(root)
    try:
        result = run("render", "dev", seconds=60)
        assert result.exit_code == 0, result.output
        yield root
    finally:
        os.chdir(previous)


@pytest.fixture
def ws(tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tree)
    monkeypatch.setenv("AIPLAT_GEN_CACHE", str(tree / "cache"))
    crds = tmp_path / "crds"
    shutil.copytree(tree / "crds", crds)
    for path in crds.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return crds


def _check(crds: Path, *args: str) -> Result:
    return run("check", "dev", "--schema-location", str(crds), "--kubeconform", "none", *args,
               seconds=60)


def _spoil(crds: Path, how: str) -> None:
    target = crds / APPLICATION
    target.unlink()
    if how == "fifo":
        os.mkfifo(target)
    elif how == "zero":
        target.symlink_to("/dev/zero")
    else:
        target.write_text(how, encoding="utf-8")


@pytest.mark.parametrize(("how", "words"), [
    ("fifo", "file is a FIFO (named pipe), not a regular file"),
    ("zero", "file is a character device, not a regular file"),
    ('{"type": 5}', "cannot be used"),
    ("[]", "is not a JSON object (it is an array)"),
    ("{", "does not parse as JSON"),
    ('{"$ref": "file:///dev/zero"}', "cannot be used"),
    ('{"$ref": "http://127.0.0.1:9/x.json"}', "cannot be used"),
], ids=["fifo", "dev-zero", "type-5", "array", "truncated", "ref-file-dev-zero", "ref-url"])
def test_a_bad_schema_is_a_finding(how: str, words: str, ws: Path) -> None:
    _spoil(ws, how)
    result = _check(ws, "--format", "json")
    assert result.exit_code == 1, result.output
    assert words in result.stdout
    assert "could not find schema" not in result.stdout


def test_a_cache_path_that_is_a_file_is_a_usage_error(ws: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    monkeypatch.setenv("AIPLAT_GEN_CACHE", str(tmp_path / "file"))
    result = _check(ws)
    assert result.exit_code == 2, result.output
    assert "is not a writable folder" in result.stderr


def test_a_kubeconform_that_writes_no_report_is_a_usage_error(ws: Path) -> None:
    result = run("check", "dev", "--schema-location", str(ws), "--kubeconform", "/bin/false",
                 seconds=60)
    assert result.exit_code == 2, result.output
    assert "/bin/false exited 1 without a JSON report" in result.stderr


@pytest.mark.parametrize("poison", ["{}", '{"type": "obj'])
def test_a_changed_cached_schema_is_prepared_again(poison: str, ws: Path, tree: Path) -> None:
    """A StatefulSet with an unknown field passed once its cached schema was `{}`."""
    assert _check(ws).exit_code == 0  # the schemas are prepared
    (cached,) = (tree / "cache" / "schemas").glob("v*-standalone-strict")
    (cached / "statefulset-apps-v1.json").write_text(poison, encoding="utf-8")
    statefulsets = [p for p in (tree / "output").rglob("statefulset-*.yaml")]
    assert statefulsets
    seeded = statefulsets[0]
    original = seeded.read_text(encoding="utf-8")
    try:
        seeded.write_text(original.replace("spec:\n", "spec:\n  notAField: 1\n", 1),
                          encoding="utf-8")
        result = _check(ws, "--no-cache")
        assert result.exit_code == 1, result.output
        assert "notAField" in result.stdout
    finally:
        seeded.write_text(original, encoding="utf-8")
    assert json.loads((cached / "statefulset-apps-v1.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("verb", ["validate", "render", "images", "plan", "check", "simulate"])
def test_an_unknown_format_is_a_usage_error(verb: str, ws: Path) -> None:
    result = run(verb, "dev", "--format", "x" * 900_000)
    assert result.exit_code == 2, result.output
    assert "--format must be one of:" in result.stderr
    assert "(900000 characters)" in result.stderr
    assert len(result.stderr) < 1000


def test_a_huge_value_is_quoted_by_its_start_and_length(ws: Path, tree: Path) -> None:
    profile = tree / "profiles" / "huge.yaml"
    profile.write_text("apiVersion: aiplat.dev/v1alpha1\nkind: PlatformProfile\nmetadata:\n"
                       f"  name: huge\nextends: '{'b' * 900_000}'\n", encoding="utf-8")
    try:
        result = run("validate", "huge")
    finally:
        profile.unlink()
    assert result.exit_code == 1, result.output
    assert "(900002 characters)" in result.stderr
    assert len(result.stderr) < 1000
