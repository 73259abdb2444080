"""`aiplat-gen check` with the real kustomize, with kubeconform present and absent: both find the
same seeded invalid object, a kind without schema is a finding (exit 1), and a clean tree passes."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from aiplat_gen.verify import check as checking
from aiplat_gen.verify.kube import locations
from aiplat_gen.verify.kube.kubeconform import ToolError, find_tool

VALIDATORS = ("kubeconform", "none")


@pytest.fixture(autouse=True)
def schema_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
                 ) -> None:
    """Prepare the Kubernetes schemas once per session, not in ~/.cache."""
    cache = tmp_path_factory.getbasetemp() / "aiplat-gen-cache"
    monkeypatch.setenv("AIPLAT_GEN_CACHE", str(cache))


@pytest.fixture
def rendered(workspace: Path, cli: Callable[..., Result]) -> Path:
    """The example profiles rendered into workspace/output."""
    result = cli("render", "--all")
    assert result.exit_code == 0, result.output
    return workspace


def _validator(name: str) -> str:
    return str(find_tool("kubeconform")) if name == "kubeconform" else name


def _check(cli: Callable[..., Result], shared: Path, validator: str, *args: str) -> Result:
    return cli("check", *args, "--kubeconform", _validator(validator),
               "--schema-location", str(shared / "schemas" / "crds"))


def _json(result: Result) -> dict[str, object]:
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def _findings(result: Result) -> set[tuple[str, str]]:
    """(file:line, path) of every finding in a JSON report."""
    findings = _json(result)["findings"]
    assert isinstance(findings, list)
    return {(f"{f['file']}:{f['line']}", f["path"]) for f in findings}


@pytest.mark.parametrize("validator", VALIDATORS)
def test_clean_tree_passes(rendered: Path, cli: Callable[..., Result], shared: Path,
                           validator: str) -> None:
    result = _check(cli, shared, validator, "--all", "--format", "json")
    assert result.exit_code == 0, result.output
    report = _json(result)
    assert report["ok"] is True and report["findings"] == []
    targets = report["targets"]
    assert isinstance(targets, list)
    assert sorted(t["target"] for t in targets) == sorted(
        ["base", "overlays/dev", "overlays/staging", "overlays/prod", "argocd/dev",
         "argocd/staging", "argocd/prod"])
    assert all(t["objects"] and all(o["status"] == "valid" for o in t["objects"])
               for t in targets)
    expected = "kubeconform" if validator == "kubeconform" else "in-process"
    assert str(report["validator"]).startswith(expected)


def _seed_invalid_quota(workspace: Path) -> str:
    quota = workspace / "output" / "base" / "cluster" / "resourcequota-llm-serving-quota.yaml"
    text = quota.read_text()
    assert "spec:\n  hard:\n" in text
    quota.write_text(text.replace("spec:\n  hard:\n", "spec:\n  hardd: {}\n  hard:\n"))
    return "output/base/cluster/resourcequota-llm-serving-quota.yaml"


def test_both_validators_find_the_same_seeded_invalid_object(
        rendered: Path, cli: Callable[..., Result], shared: Path) -> None:
    seeded = _seed_invalid_quota(rendered)
    results = {v: _check(cli, shared, v, "--all", "--format", "json") for v in VALIDATORS}
    for validator, result in results.items():
        assert result.exit_code == 1, (validator, result.output)
    found = {v: _findings(r) for v, r in results.items()}
    assert found["kubeconform"] == found["none"]
    # base and every overlay contain the quota: one finding, at the file that defines it, for
    # the one cause, naming the folders and counting the objects.
    line = next(n for n, ln in enumerate((rendered / seeded).read_text().splitlines(), 1)
                if ln.startswith("kind:"))
    assert found["none"] == {(f"{seeded}:{line}", "base, overlays/dev, overlays/prod, "
                              "overlays/staging: ResourceQuota")}
    messages = [f["message"] for f in _json(results["none"])["findings"]]  # type: ignore[index]
    assert len(messages) == 1 and "(4 objects: base: ResourceQuota/llm-serving/" in messages[0]
    for result in results.values():
        messages = [m for t in _json(result)["targets"] for o in t["objects"]  # type: ignore[attr-defined]
                    for m in o["messages"]]
        assert messages and all("hardd" in m for m in messages)


@pytest.mark.parametrize("validator", VALIDATORS)
def test_a_missing_crd_schema_is_a_finding(rendered: Path, cli: Callable[..., Result],
                                           shared: Path, tmp_path: Path, validator: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # Neither the shipped schemas nor the location given have the ArgoCD kinds.
    shipped = tmp_path / "shipped"
    shutil.copytree(locations.builtin_crd_schemas(), shipped)
    shutil.rmtree(shipped / "argoproj.io")
    monkeypatch.setattr(locations, "builtin_crd_schemas", lambda: shipped)
    crds = tmp_path / "crds"
    shutil.copytree(shared / "schemas" / "crds", crds)
    shutil.rmtree(crds / "argoproj.io")
    result = cli("check", "prod", "--kubeconform", _validator(validator),
                 "--schema-location", str(crds))
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    missing = [ln for ln in lines if "could not find schema" in ln]
    argocd_files = sorted(p.name for p in (rendered / "output/argocd/prod").glob("app*.yaml"))
    # One line per kind (Application, AppProject) with the count of its objects.
    assert len(missing) == 2
    counts = [int(m) for ln in missing for m in re.findall(r"\((\d+) objects: ", ln)]
    assert sum(counts) == len(argocd_files) > 2
    assert all(ln.startswith("output/argocd/prod/app") for ln in missing)
    assert all("--schema-location" in ln for ln in missing)  # the hint
    assert lines[-1].endswith("2 finding(s)")


def test_without_schema_locations_the_shipped_schemas_cover_every_custom_resource(
        rendered: Path, cli: Callable[..., Result]) -> None:
    result = cli("check", "base", "--kubeconform", "none", "--format", "json")
    assert result.exit_code == 0, result.output
    report = _json(result)
    statuses = {(o["apiVersion"], o["status"]) for t in report["targets"]  # type: ignore[attr-defined]
                for o in t["objects"]}
    assert ("karpenter.sh/v1", "valid") in statuses
    assert {status for _, status in statuses} == {"valid"}


def test_kustomize_warning_and_missing_output_are_findings(
        rendered: Path, cli: Callable[..., Result], shared: Path) -> None:
    kustomization = rendered / "output" / "overlays" / "dev" / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + "commonLabels:\n  team: ml\n")
    shutil.rmtree(rendered / "output" / "argocd" / "staging")
    result = _check(cli, shared, "none", "dev", "staging")
    assert result.exit_code == 1
    assert "output/overlays/dev/kustomization.yaml:1:1: overlays/dev: Warning:" in result.stdout
    assert "commonLabels" in result.stdout
    assert ("output/argocd/staging/kustomization.yaml:1:1: argocd/staging: output/argocd/staging "
            "has no kustomization.yaml: run `aiplat-gen render staging` first") in result.stdout


def test_formats(rendered: Path, cli: Callable[..., Result], shared: Path) -> None:
    _seed_invalid_quota(rendered)
    junit = _check(cli, shared, "none", "base", "--format", "junit")
    assert junit.exit_code == 1
    suites = ET.fromstring(junit.stdout)
    assert suites.get("failures") == "1"
    failed = [c.get("name") for c in suites.iter("testcase") if c.find("failure") is not None]
    assert failed == ["ResourceQuota/llm-serving/llm-serving-quota"]
    github = _check(cli, shared, "none", "base", "--format", "github")
    assert github.exit_code == 1
    assert github.stdout.startswith(
        "::error file=output/base/cluster/resourcequota-llm-serving-quota.yaml,line=")
    text = _check(cli, shared, "none", "base")
    objects = len(list(suites.iter("testcase"))) - 1  # minus the "kustomize build" case
    assert text.stdout.splitlines()[-1] == (
        f"checked {objects} objects in 1 folder(s) with in-process (jsonschema): 1 finding(s)")


def test_auto_falls_back_to_in_process_without_kubeconform(
        rendered: Path, cli: Callable[..., Result], shared: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    def absent(name: str) -> Path:
        raise ToolError(f"{name} not found")

    monkeypatch.setattr(checking, "find_tool", absent)
    result = cli("check", "prod", "--schema-location", str(shared / "schemas" / "crds"))
    assert result.exit_code == 0, result.output
    assert "with in-process (jsonschema): ok" in result.stdout


def test_file_url_location_equals_folder(rendered: Path, cli: Callable[..., Result],
                                         shared: Path) -> None:
    url = (shared / "schemas" / "crds").absolute().as_uri()
    for validator in VALIDATORS:
        result = cli("check", "prod", "--kubeconform", _validator(validator),
                     "--schema-location", url)
        assert result.exit_code == 0, result.output


def test_usage_errors_exit_2(rendered: Path, cli: Callable[..., Result], tmp_path: Path) -> None:
    assert cli("check", "prod", "--format", "xml").exit_code == 2
    assert cli("check", "prod", "--kubeconform", str(tmp_path / "nope")).exit_code == 2
    result = cli("check", "prod", "--schema-location", str(tmp_path / "missing"))
    assert result.exit_code == 2 and "neither a folder" in result.stderr
    assert cli("check").exit_code == 2
    assert cli("check", "nosuch").exit_code == 2


def test_invalid_profile_exits_1_with_located_diagnostics(rendered: Path,
                                                         cli: Callable[..., Result]) -> None:
    prod = rendered / "profiles" / "prod.yaml"
    prod.write_text(prod.read_text().replace("name: prod-cluster", "name: prod cluster"))
    result = cli("check", "prod")
    assert result.exit_code == 1
    assert result.stderr.startswith("profiles/prod.yaml:")
    assert "spec.gitops.destination.name" in result.stderr
