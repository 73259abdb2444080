"""Shared fixtures: the repository, ../shared, the real tools, and an in-process CLI runner."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from aiplat_gen.cli import app

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CRD_SCHEMAS = SHARED / "schemas" / "crds"
GPU_OPERATOR_VALUES = SHARED / "reference" / "gpu-operator" / "values-v26.7.0.yaml"


def pytest_configure(config: pytest.Config) -> None:
    """The tests keep nothing in the user's cache (`render` keeps reusable renders there,
    `check` its schemas): one cache folder per test run, unless a test sets its own."""
    os.environ["AIPLAT_GEN_CACHE"] = tempfile.mkdtemp(prefix="aiplat-gen-tests-cache-")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="Rewrite tests/golden/<case>/expected from the current code.")


@pytest.fixture(scope="session")
def shared() -> Path:
    """../shared, or skip with a clear message where it is absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared is absent: CRD schemas and chart references are needed")
    return SHARED


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run `aiplat-gen ARGS` in-process; the caller asserts the exit code."""
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, list(args), catch_exceptions=True)

    return run


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary folder with a copy of the example profiles, made the current folder."""
    shutil.copytree(REPO / "profiles", tmp_path / "profiles")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under root, by relative path."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}
