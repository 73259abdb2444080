"""Checkov (the real scanner, offline) on the kustomize-built prod overlay: no failed check outside
the exceptions the profile declares, each suppression carrying a declared reason.

Checkov runs from its own virtual environment (`.venv-checkov`, made by scripts/test.sh from
requirements/checkov.txt), because its pins conflict with the project's; `AIPLAT_CHECKOV` names
the binary.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from aiplat_gen.checks.policy.rules import RULES_BY_ID
from aiplat_gen.checks.validate import validate_file
from aiplat_gen.cli import app
from aiplat_gen.render.pipeline import render_profile
from conftest import REPO
from test_real_tools import kustomize_build


def checkov() -> Path:
    """The checkov binary: $AIPLAT_CHECKOV, the project's .venv-checkov, or PATH."""
    for candidate in (os.environ.get("AIPLAT_CHECKOV"), str(REPO / ".venv-checkov/bin/checkov"),
                      shutil.which("checkov")):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    pytest.fail("checkov is not installed: run scripts/test.sh, which makes .venv-checkov "
                "from requirements/checkov.txt")


def run_checkov(objects: list[dict[str, Any]], folder: Path) -> dict[str, Any]:
    """Scan the objects (one file) with checkov's Kubernetes framework, without downloads."""
    folder.mkdir(parents=True)
    (folder / "prod.yaml").write_text(yaml.safe_dump_all(objects, sort_keys=False),
                                      encoding="utf-8")
    proc = subprocess.run([str(checkov()), "-d", str(folder), "--framework", "kubernetes",
                           "--skip-download", "--compact", "--output", "json"],
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.stdout, proc.stderr
    report = json.loads(proc.stdout)
    assert isinstance(report, dict), "one framework gives one report"
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["resource_count"] > 0
    return report


@pytest.fixture(scope="module")
def prod_overlay(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    out = tmp_path_factory.mktemp("checkov") / "output"
    result = CliRunner().invoke(app, ["render", "--all", "--profiles-dir",
                                      str(REPO / "profiles"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return kustomize_build(out / "overlays" / "prod")


def test_checkov_fails_nothing_outside_the_declared_exceptions(
        prod_overlay: list[dict[str, Any]], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    report = run_checkov(prod_overlay, tmp_path / "scan")
    failed = [(r["check_id"], r["resource"]) for r in report["results"]["failed_checks"]]
    assert not failed, failed
    profile = validate_file(REPO / "profiles" / "prod.yaml").profile
    declared = {e.reason: RULES_BY_ID[e.rule] for e in
                profile.spec.security.policy_exceptions}
    skipped = report["results"]["skipped_checks"]
    for check in skipped:
        rule = declared.get(check["check_result"]["suppress_comment"])
        assert rule is not None, f"{check['check_id']} suppressed without a declared reason"
        assert check["check_id"] in rule.checkov, f"{check['check_id']} is not in {rule.id}"
    by_check = Counter(c["check_id"] for c in skipped)
    with capsys.disabled():
        print(f"\ncheckov on overlays/prod: {report['summary']['passed']} passed, 0 failed, "
              f"{len(skipped)} suppressed by declared exceptions: "
              + ", ".join(f"{k} x{v}" for k, v in sorted(by_check.items())))
    assert skipped, "the prod profile declares exceptions, so checkov must report them"


def test_without_the_exceptions_checkov_fails(tmp_path: Path) -> None:
    """The suppressions are what keeps checkov green: without them it fails those checks."""
    vp = validate_file(REPO / "profiles" / "prod.yaml")
    security = vp.profile.spec.security.model_copy(update={"policy_exceptions": []})
    spec = vp.profile.spec.model_copy(update={"security": security})
    bare = render_profile(vp.profile.model_copy(update={"spec": spec}))
    report = run_checkov([o.obj for o in bare.objects], tmp_path / "scan")
    failed = {r["check_id"] for r in report["results"]["failed_checks"]}
    assert {"CKV_K8S_11", "CKV_K8S_40", "CKV_K8S_43"} <= failed
    assert not report["results"]["skipped_checks"]
