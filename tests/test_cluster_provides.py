"""`spec.clusterProvides`: what the profile says the tree refers to is what the render refers to,
the operator Applications agree with `components.argocd_charts`, and the declarations follow
`extends` (lists replace). The located diagnostics are in tests/profiles/invalid/provided-*."""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from aiplat_gen.checks.validate import validate_file
from aiplat_gen.platform.facts.charts import CHARTS
from aiplat_gen.platform.facts.controllers import CONTROLLERS
from aiplat_gen.platform.provided import (
    controllers,
    installed_by_application,
    needed_controllers,
    node_classes,
    secret_stores,
    storage_classes,
    tls_secrets,
)
from aiplat_gen.profile.schema.cluster_provides import Controller
from aiplat_gen.render.components.argocd_charts import charts_for
from aiplat_gen.render.pipeline import render_profile
from aiplat_gen.render.rendered import FullRender
from conftest import REPO

PROFILES = sorted([*(REPO / "profiles").glob("*.yaml"),
                   *(REPO / "tests" / "golden").glob("*/profiles/*.yaml")])
INDIRECT = ("gpu-operator", "prometheus-operator", "knative-serving")
BUILT_IN = {"", "apps", "autoscaling", "batch", "policy", "networking.k8s.io",
            "rbac.authorization.k8s.io", "scheduling.k8s.io"}


def test_controller_table_matches_the_model_and_the_charts() -> None:
    assert list(CONTROLLERS) == list(typing.get_args(Controller))
    assert {i.chart for i in CONTROLLERS.values() if i.chart} == {c.name for c in CHARTS}


def _objects(full: FullRender, kind: str) -> Iterator[dict[str, Any]]:
    return (o.obj for o in full.objects if o.obj["kind"] == kind)


def _storage_classes(full: FullRender) -> set[str]:
    claims = [o["spec"] for o in _objects(full, "PersistentVolumeClaim")]
    claims += [t["spec"] for o in _objects(full, "StatefulSet")
               for t in o["spec"].get("volumeClaimTemplates", [])]
    names = {c["storageClassName"] for c in claims if "storageClassName" in c}
    return names | {o["spec"]["storage"]["storageClass"] for o in _objects(full, "Cluster")
                    if "storageClass" in o["spec"]["storage"]}


def _tls_secrets(full: FullRender) -> set[tuple[str, str]]:
    found = {(o["metadata"]["namespace"], ref["name"]) for o in _objects(full, "Gateway")
             for listener in o["spec"]["listeners"]
             for ref in listener.get("tls", {}).get("certificateRefs", [])}
    return found | {(o["metadata"]["namespace"], tls["secretName"])
                    for o in _objects(full, "Ingress") for tls in o["spec"].get("tls", [])}


@pytest.mark.parametrize("path", PROFILES, ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_references_are_what_the_render_refers_to(path: Path) -> None:
    profile = validate_file(path).profile
    full = render_profile(profile)
    assert {r.name for r in storage_classes(profile)} == _storage_classes(full)
    assert {r.name for r in node_classes(profile)} == {
        o["spec"]["template"]["spec"]["nodeClassRef"]["name"] for o in _objects(full, "NodePool")
        if o["apiVersion"].startswith("karpenter.sh/")}
    assert {(r.namespace, r.name) for r in tls_secrets(profile)} == _tls_secrets(full)
    assert {(r.kind, r.name) for r in secret_stores(profile)} == {
        (o["spec"]["secretStoreRef"]["kind"], o["spec"]["secretStoreRef"]["name"])
        for o in _objects(full, "ExternalSecret")}
    # The operator Applications, decided on the profile alone, are the ones the render gets.
    assert {CONTROLLERS[c].chart for c in CONTROLLERS if installed_by_application(profile, c)} \
        == {c.name for c in charts_for(profile, full)}
    # Every custom resource rendered is served by a controller the profile is said to need.
    needed = needed_controllers(profile)
    served = {g for name in needed for g in CONTROLLERS[name].groups}
    groups = {str(o.obj["apiVersion"]).rpartition("/")[0] for o in full.objects}
    assert groups - BUILT_IN <= served, (groups - BUILT_IN) - served
    # ... and each needed controller serves one of them, when its installation brings any,
    # except where another controller creates the objects: the GPU Operator chart its DCGM
    # ServiceMonitor (prometheus-operator), KServe the Knative Services of Knative mode.
    for name in needed:
        groups_of = set(CONTROLLERS[name].groups)
        assert not groups_of or groups_of & groups or name in INDIRECT, name


def test_every_needed_controller_is_installed_or_declared() -> None:
    for path in PROFILES:
        profile = validate_file(path).profile
        declared = set(profile.spec.cluster_provides.controllers)
        for ref in controllers(profile):
            assert ref.name in declared or installed_by_application(profile, ref.name), \
                (path, ref)


def test_declarations_follow_extends(workspace: Path, cli: Callable[..., Result]) -> None:
    prod = workspace / "profiles" / "prod.yaml"
    text = prod.read_text("utf-8")
    assert "    storageClasses: [gp3, efs-sc]\n" in text
    prod.write_text(text.replace("    storageClasses: [gp3, efs-sc]\n",
                                 "    storageClasses: [efs-sc]\n"))
    result = cli("validate", "prod")
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines()
              if ": spec." in line and ": warning: " not in line]
    # Lists replace: prod's list drops gp3, so each use of it fails where it is written,
    # in base.yaml for the inherited ones and in prod.yaml for llama-70b's.
    assert [line.split(": ")[0] for line in errors] == [
        "profiles/base.yaml:143:9", "profiles/base.yaml:164:9", "profiles/base.yaml:194:9",
        "profiles/prod.yaml:55:9"]
    assert all("StorageClass 'gp3' is not declared as provided by the cluster" in line
               for line in errors)
    assert cli("validate", "dev").exit_code == 0  # dev inherits base's list
