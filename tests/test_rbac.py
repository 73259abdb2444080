"""RBAC and pod security of the rendered platform: every workload runs under its own
ServiceAccount without a token, group Roles never reach Secrets, nothing is cluster-wide unless
a group asks."""

from __future__ import annotations

from typing import Any

from aiplat_gen.checks.validate import validate_file
from aiplat_gen.render.components.rbac import binding_name, role_rules
from aiplat_gen.render.pipeline import render_profile
from conftest import REPO

GOLDEN = REPO / "tests" / "golden" / "gateway-api" / "profiles" / "base.yaml"


def _objects(path: Any) -> list[dict[str, Any]]:
    return [o.obj for o in render_profile(validate_file(path).profile).objects]


def _pod_specs(objects: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    specs = {}
    for obj in objects:
        key = (obj["metadata"]["namespace"], obj["metadata"]["name"]) if "namespace" in \
            obj["metadata"] else ("", obj["metadata"]["name"])
        if obj["kind"] in ("Deployment", "StatefulSet"):
            specs[key] = obj["spec"]["template"]["spec"]
        elif obj["kind"] == "InferenceService":
            specs[key] = obj["spec"]["predictor"]
    return specs


def test_every_workload_has_its_own_tokenless_service_account() -> None:
    objects = _objects(REPO / "profiles" / "prod.yaml")
    accounts = {(o["metadata"]["namespace"], o["metadata"]["name"]): o for o in objects
                if o["kind"] == "ServiceAccount"}
    specs = _pod_specs(objects)
    assert len(specs) >= 6
    for (namespace, name), spec in specs.items():
        assert spec["serviceAccountName"] == name, name
        assert spec["automountServiceAccountToken"] is False, name
        assert accounts[(namespace, spec["serviceAccountName"])][
            "automountServiceAccountToken"] is False


def test_roles_never_reach_secrets_exec_or_wildcards() -> None:
    for role in ("deployer", "viewer"):
        rules = role_rules(role)
        resources = {r for rule in rules for r in rule["resources"]}
        verbs = {v for rule in rules for v in rule["verbs"]}
        assert "secrets" not in resources and "pods/exec" not in resources
        assert "*" not in resources and "*" not in verbs
        assert not any(r.startswith(("roles", "rolebindings", "clusterrole")) for r in resources)
    assert {v for r in role_rules("viewer") for v in r["verbs"]} == {"get", "list", "watch"}
    deployer = {(g, res): rule["verbs"] for rule in role_rules("deployer")
                for g in rule["apiGroups"] for res in rule["resources"]}
    assert "delete" in deployer[("apps", "deployments")]
    assert deployer[("", "pods/log")] == ["get", "list", "watch"]


def test_groups_bind_per_namespace_unless_cluster_wide() -> None:
    objects = _objects(GOLDEN)
    kinds = [(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in objects
             if o["kind"] in ("Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding")]
    assert ("Role", "llm", "aiplat-deployer") in kinds
    assert ("RoleBinding", "llm", binding_name("deployer", "lab:ml-team")) in kinds
    # the deployer group named one namespace: no Role anywhere else
    assert [k for k in kinds if k[0] == "Role"] == [("Role", "llm", "aiplat-deployer")]
    assert ("ClusterRole", None, "lab-viewer") in kinds
    assert ("ClusterRoleBinding", None, binding_name("viewer", "lab:auditors")) in kinds
    prod = _objects(REPO / "profiles" / "prod.yaml")
    assert not [o for o in prod if o["kind"].startswith("Cluster") and "Role" in o["kind"]]


def test_binding_names_are_stable_dns_labels() -> None:
    name = binding_name("viewer", "oidc:Team/ML Platform")
    assert name == binding_name("viewer", "oidc:Team/ML Platform")
    assert len(name) <= 63 and name.startswith("aiplat-viewer-oidc-team-ml-platform-")
    assert binding_name("viewer", "a:b") != binding_name("viewer", "a/b")
