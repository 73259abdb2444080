"""The rendered trees against the real tools: kustomize builds every overlay without a warning,
the build equals the tool's own full render, and kubeconform -strict accepts every object with
local schemas only (a missing schema fails)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import Result

from aiplat_gen.checks.validate import validate_file
from aiplat_gen.render.components.base import RenderContext
from aiplat_gen.render.pipeline import render_full
from aiplat_gen.verify.kube.kubeconform import find_tool, run_kubeconform
from aiplat_gen.verify.kube.schemas import kubeconform_schema_locations, prepare_kubernetes_schemas
from conftest import REPO

EXAMPLES = sorted(p.stem for p in (REPO / "profiles").glob("*.yaml"))
GOLDEN = sorted(p for p in (REPO / "tests" / "golden").glob("*/expected") if p.is_dir())


@pytest.fixture(scope="session")
def schema_locations(shared: Path, tmp_path_factory: pytest.TempPathFactory
                     ) -> Callable[[str], list[str]]:
    cache = tmp_path_factory.mktemp("k8s-schemas")

    def locations(version: str) -> list[str]:
        k8s = prepare_kubernetes_schemas(version, cache)
        return kubeconform_schema_locations(k8s, [shared / "schemas" / "crds"])

    return locations


@pytest.fixture(scope="module")
def example_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from typer.testing import CliRunner

    from aiplat_gen.cli import app

    out = tmp_path_factory.mktemp("examples") / "output"
    result: Result = CliRunner().invoke(app, ["render", "--all", "--profiles-dir",
                                              str(REPO / "profiles"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def kustomize_build(folder: Path) -> list[dict[str, Any]]:
    """Build a kustomization with the pinned kustomize; fail on any warning."""
    proc = subprocess.run([str(find_tool("kustomize")), "build", str(folder)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr and "# Warning" not in proc.stdout, proc.stderr
    return [d for d in yaml.safe_load_all(proc.stdout) if d is not None]


def canonical(objects: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(o, sort_keys=True) for o in objects)


def _kubeconform(objects: list[dict[str, Any]], version: str, locations: list[str]) -> None:
    text = yaml.safe_dump_all(objects, sort_keys=False)
    report = run_kubeconform(text, version, locations, find_tool("kubeconform"))
    problems = [f"{r.kind}/{r.name}: {r.status} {r.msg}" for r in report.problems]
    assert report.ok and not problems, problems
    assert report.summary.skipped == 0
    assert report.summary.valid == len(objects)


def _folders(tree: Path) -> list[Path]:
    return [tree / "base", *sorted(p for p in (tree / "overlays").glob("*") if p.is_dir())]


@pytest.mark.parametrize("profile", EXAMPLES)
def test_overlay_builds_and_equals_full_render(profile: str, example_tree: Path) -> None:
    vp = validate_file(REPO / "profiles" / f"{profile}.yaml")
    folder = example_tree / ("base" if vp.source.parent is None else f"overlays/{profile}")
    built = kustomize_build(folder)
    full = render_full(RenderContext(vp.profile))
    assert canonical(built) == canonical([o.obj for o in full.objects])


@pytest.mark.parametrize("profile", EXAMPLES)
def test_kubeconform_strict_on_every_object(profile: str, example_tree: Path,
                                            schema_locations: Callable[[str], list[str]]) -> None:
    vp = validate_file(REPO / "profiles" / f"{profile}.yaml")
    folder = example_tree / ("base" if vp.source.parent is None else f"overlays/{profile}")
    objects = kustomize_build(folder)
    assert objects
    _kubeconform(objects, vp.profile.spec.kubernetes_version, schema_locations(
        vp.profile.spec.kubernetes_version))


@pytest.mark.parametrize("expected", GOLDEN, ids=[p.parent.name for p in GOLDEN])
def test_golden_trees_build_and_validate(expected: Path,
                                         schema_locations: Callable[[str], list[str]]) -> None:
    profiles = expected.parent / "profiles"
    for folder in _folders(expected):
        if not (folder / "kustomization.yaml").is_file():
            continue
        objects = kustomize_build(folder)
        if folder.name == "base":
            vp = next(v for v in map(validate_file, sorted(profiles.glob("*.yaml")))
                      if v.source.parent is None)
        else:
            vp = validate_file(profiles / f"{folder.name}.yaml")
        version = vp.profile.spec.kubernetes_version
        _kubeconform(objects, version, schema_locations(version))


def test_a_missing_schema_fails(schema_locations: Callable[[str], list[str]]) -> None:
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    report = run_kubeconform(yaml.safe_dump(widget), "1.33", schema_locations("1.33"),
                             find_tool("kubeconform"))
    assert not report.ok
    assert report.summary.skipped == 0
