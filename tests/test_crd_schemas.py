"""The CRD schemas aiplat-gen ships (`crd-schemas/`, made by `scripts/crd_schemas.py`): they are
what the script makes from the upstream CRDs, cover exactly the custom kinds the tool renders, and
make `check` work offline with no option; repeated findings come as one line per kind and cause."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from typer.testing import Result

from aiplat_gen.core.errors import Position
from aiplat_gen.verify.check import CheckReport, ObjectResult, TargetResult
from aiplat_gen.verify.check.report import findings, to_text
from aiplat_gen.verify.kube.locations import builtin_crd_schemas
from aiplat_gen.verify.kube.schemas import (
    kubeconform_schema_filename,
    prepare_kubernetes_schemas,
)
from conftest import REPO, tree_bytes

SHIPPED = REPO / "crd-schemas"


def test_the_shipped_schemas_are_what_the_script_makes(shared: Path, tmp_path: Path) -> None:
    out = tmp_path / "crd-schemas"
    run = subprocess.run([sys.executable, str(REPO / "scripts" / "crd_schemas.py"),
                          "--crds", str(shared / "crds"), "--out", str(out)],
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    assert tree_bytes(out) == tree_bytes(SHIPPED), "run scripts/crd_schemas.py and commit"
    assert builtin_crd_schemas() == SHIPPED


def test_the_schemas_are_strict() -> None:
    schema = json.loads((SHIPPED / "external-secrets.io" / "externalsecret_v1.json").read_text())
    assert schema["additionalProperties"] is False  # the root too: `specs:` is a finding
    assert schema["properties"]["spec"]["additionalProperties"] is False


def _custom_kinds(files: list[Path], k8s: Path) -> set[tuple[str, str]]:
    """(apiVersion, kind) of the objects in `files` that Kubernetes itself has no schema for."""
    found = set()
    for path in files:
        for doc in yaml.safe_load_all(path.read_text("utf-8")):
            if not isinstance(doc, dict) or "kind" not in doc:
                continue
            api_version, kind = str(doc["apiVersion"]), str(doc["kind"])
            if kind in ("Kustomization", "PlatformProfile"):
                continue  # kustomize's own file; a golden case's profile
            if not (k8s / kubeconform_schema_filename(kind, api_version)).is_file():
                found.add((api_version, kind))
    return found


def _rendered_files(root: Path) -> list[Path]:
    return [p for p in sorted(root.rglob("*.yaml")) if "helm" not in p.relative_to(root).parts]


def test_every_custom_kind_rendered_has_a_shipped_schema_and_no_other(
        tmp_path: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    k8s = prepare_kubernetes_schemas("1.33", tmp_path / "k8s")
    files = _rendered_files(REPO / "output")
    for case in sorted((REPO / "tests" / "golden").iterdir()):
        files += _rendered_files(case / "expected")
    for example in ("minimal", "full"):
        folder = tmp_path / example
        folder.mkdir()
        monkeypatch.chdir(folder)
        assert cli("init", "--example", example).exit_code == 0
        assert cli("render", "--all").exit_code == 0
        files += _rendered_files(folder / "output")
    rendered = _custom_kinds(files, k8s)
    shipped = set()
    for path in SHIPPED.rglob("*.json"):
        kind, _, version = path.stem.rpartition("_")
        shipped.add((f"{path.parent.name}/{version}", kind))
    assert {(v, k.lower()) for v, k in rendered} == shipped
    assert len(shipped) == 21


def test_check_works_offline_with_no_option(workspace: Path, cli: Callable[..., Result],
                                            monkeypatch: pytest.MonkeyPatch,
                                            tmp_path_factory: pytest.TempPathFactory) -> None:
    monkeypatch.setenv("AIPLAT_GEN_CACHE", str(tmp_path_factory.getbasetemp() / "crd-cache"))
    assert cli("render", "--all").exit_code == 0
    for validator in ("auto", "none"):  # kubeconform, and in-process
        result = cli("check", "--all", "--kubeconform", validator)
        assert result.exit_code == 0, result.output
        assert result.stdout.rstrip().endswith(": ok"), result.stdout
        # With the policy rules: only the examples' placeholder sha256 (64 zeros) is refused.
        result = cli("check", "--all", "--policy", "--kubeconform", validator)
        assert result.exit_code == 1, result.output
        findings = result.stdout.splitlines()[:-1]
        assert findings and all("policy weights-checksum:" in f for f in findings), findings
        assert result.stdout.rstrip().endswith("policy exception(s) declared"), result.stdout


def test_a_schema_location_overrides_and_findings_are_grouped(
        workspace: Path, cli: Callable[..., Result], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    monkeypatch.setenv("AIPLAT_GEN_CACHE", str(tmp_path_factory.getbasetemp() / "crd-cache"))
    assert cli("render", "--all").exit_code == 0
    mine = tmp_path / "schemas" / "external-secrets.io" / "externalsecret_v1.json"
    mine.parent.mkdir(parents=True)
    mine.write_text(json.dumps({"type": "object", "required": ["sealed"]}))
    for validator in ("auto", "none"):
        result = cli("check", "--all", "--kubeconform", validator,
                     "--schema-location", str(tmp_path / "schemas"))
        assert result.exit_code == 1, result.output
        lines = result.stdout.splitlines()
        assert len(lines) == 2, result.stdout  # one finding line, then the summary
        assert re.search(r": ExternalSecret: .*\(24 objects: base: ExternalSecret/\S+, base: "
                         r"ExternalSecret/\S+, base: ExternalSecret/\S+ and 21 more\)", lines[0])
        assert lines[1].endswith(": 1 finding(s)")


def _object(kind: str, name: str, messages: tuple[str, ...]) -> ObjectResult:
    return ObjectResult(kind, name, "ns", "example.com/v1", f"output/base/{name}.yaml", 3,
                        "error", messages)


def test_one_line_per_kind_and_cause() -> None:
    missing = ("could not find schema for Widget",)
    base = TargetResult("base", "base", "1.33", "output/base/kustomization.yaml", (), (
        _object("Widget", "a", missing), _object("Widget", "b", missing),
        _object("Gadget", "c", ("could not find schema for Gadget",)),
        _object("Widget", "d", ("at '/spec': additional properties 'x' not allowed",))))
    prod = TargetResult("overlays/prod", "prod", "1.33", "output/overlays/prod/kustomization.yaml",
                        (), (_object("Widget", "a", missing),))
    found = findings(CheckReport("in-process", [base, prod]))
    assert [str(d.position) for d in found] == [str(Position("output/base/a.yaml", 3, 1)),
                                                "output/base/c.yaml:3:1", "output/base/d.yaml:3:1"]
    assert found[0].path == "base, overlays/prod: Widget"
    assert found[0].message == ("could not find schema for Widget (3 objects: base: Widget/ns/a, "
                                "base: Widget/ns/b, overlays/prod: Widget/ns/a)")
    assert "among those aiplat-gen ships" in found[0].hint
    assert found[1].path == "base: Gadget/ns/c"  # alone: as before
    assert to_text(CheckReport("in-process", [base, prod])).count("\n") == 4
