"""The order ArgoCD installs things in is real: the committed ArgoCD objects retry until the
operators' CRDs exist and skip the dry run of custom resources whose CRDs are missing, and
where nothing restores ArgoCD's Application health check the page and `check` say so."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from aiplat_gen.checks.validate import validate_file
from aiplat_gen.core.errors import Severity
from aiplat_gen.platform.facts.charts import APPLICATION_HEALTH_KEY, PLATFORM_WAVE
from conftest import REPO

WAVE = "argocd.argoproj.io/sync-wave"
APPS = sorted((REPO / "output" / "argocd").glob("*/application-*.yaml"))


@pytest.mark.parametrize("path", APPS, ids=lambda p: str(p.relative_to(REPO)))
def test_applications_retry_until_they_sync(path: Path) -> None:
    """ArgoCD stops retrying after `retry.limit` failures; a negative limit never stops
    (argoproj/argo-cd docs/operator-manual/application.yaml)."""
    app = yaml.safe_load(path.read_text())
    retry = app["spec"]["syncPolicy"]["retry"]
    assert retry["limit"] < 0, f"{path.name} gives up after {retry['limit']} failed syncs"
    assert set(retry["backoff"]) == {"duration", "factor", "maxDuration"}
    if app["metadata"].get("annotations", {}).get(WAVE) == str(PLATFORM_WAVE):
        assert "SkipDryRunOnMissingResource=true" in app["spec"]["syncPolicy"]["syncOptions"]


def test_readme_gives_the_health_check_patch() -> None:
    """The merge patch on the page is valid JSON adding only the health check key."""
    page = (REPO / "output" / "README.md").read_text()
    found = re.search(r"patch configmap argocd-cm --type merge -p '([^']+)'", page)
    assert found, "output/README.md does not say how to restore the Application health check"
    patch = json.loads(found.group(1))
    assert list(patch["data"]) == [APPLICATION_HEALTH_KEY]
    assert "obj.status.health.status" in patch["data"][APPLICATION_HEALTH_KEY]


def test_check_warns_until_the_profile_declares_the_health_check(tmp_path: Path) -> None:
    doc = yaml.safe_load((REPO / "tests" / "golden" / "autoscaling-keda" / "profiles" /
                          "base.yaml").read_text())
    gitops = doc["spec"].setdefault("gitops", {})
    gitops.update({"repoURL": "https://github.com/acme/x.git", "deploy": True})
    path = tmp_path / "base.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    warned = [d for d in validate_file(path).warnings
              if d.path == "spec.gitops.applicationHealthCheck"]
    assert [d.severity for d in warned] == [Severity.WARNING]
    gitops["applicationHealthCheck"] = True
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    assert not [d for d in validate_file(path).warnings
                if d.path == "spec.gitops.applicationHealthCheck"]
