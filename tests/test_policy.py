"""`aiplat-gen check --policy`: the rules catch what they claim, declared exceptions become the
scanners' annotations and are honoured, and the CLI fails on a seeded violation."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from typer.testing import Result

from aiplat_gen.checks.policy.engine import evaluate
from aiplat_gen.checks.policy.exceptions import scanner_annotations
from aiplat_gen.checks.policy.rules import POD_CHECKS, RULES, RULES_BY_ID
from aiplat_gen.profile.schema.security import PolicyException

GOOD: dict[str, Any] = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "app"},
    "spec": {"replicas": 2, "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
        "serviceAccountName": "web", "automountServiceAccountToken": False,
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{
            "name": "web", "image": "example/web:1.0@sha256:" + "a" * 64,
            "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]}},
            "resources": {"requests": {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": "1",
                                       "ephemeral-storage": "1Gi"},
                          "limits": {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": "1",
                                     "ephemeral-storage": "1Gi"}},
            "readinessProbe": {"httpGet": {"path": "/", "port": 80}},
            "livenessProbe": {"httpGet": {"path": "/", "port": 80}}}]}}},
}
POLICY = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
          "metadata": {"name": "deny", "namespace": "app"},
          "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}


def _rules(objects: list[dict[str, Any]]) -> set[str]:
    return {f.rule for f in evaluate(objects) if f.suppressed is None}


def test_a_compliant_workload_passes_every_rule() -> None:
    assert _rules([GOOD, POLICY]) == set()


def test_every_pod_rule_catches_its_violation() -> None:
    bad = copy.deepcopy(GOOD)
    pod = bad["spec"]["template"]["spec"]
    container = pod["containers"][0]
    pod.update(hostNetwork=True, automountServiceAccountToken=True,
               volumes=[{"name": "h", "hostPath": {"path": "/"}}])
    del pod["serviceAccountName"], pod["securityContext"]
    container.update(image="example/web:latest", imagePullPolicy="IfNotPresent",
                     env=[{"name": "T", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
                     securityContext={"privileged": True, "capabilities": {"add": ["SYS_ADMIN"]}},
                     resources={"requests": {"nvidia.com/gpu": "1"}})
    del container["readinessProbe"]
    pod["containers"].append({**copy.deepcopy(GOOD["spec"]["template"]["spec"]["containers"][0]),
                              "name": "fetch", "env": [{"name": "PINS", "value": "0" * 64}]})
    assert _rules([bad]) == set(POD_CHECKS) | {"network-policy"}


def test_pdb_that_blocks_drains_is_reported() -> None:
    pdb = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
           "metadata": {"name": "web", "namespace": "app"},
           "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}}}
    findings = [f.message for f in evaluate([GOOD, POLICY, pdb]) if f.rule == "pdb"]
    assert findings == ["minAvailable 2 >= replicas 2 of web: node drains would block"]


def test_unbounded_scratch_is_reported() -> None:
    """An emptyDir without sizeLimit, and one larger than the container's ephemeral-storage."""
    bad = copy.deepcopy(GOOD)
    pod = bad["spec"]["template"]["spec"]
    pod["volumes"] = [{"name": "tmp", "emptyDir": {}},
                      {"name": "home", "emptyDir": {"sizeLimit": "2Gi"}},
                      {"name": "shm", "emptyDir": {"medium": "Memory"}}]
    pod["containers"][0]["volumeMounts"] = [{"name": "home", "mountPath": "/home"}]
    findings = [f.message for f in evaluate([bad, POLICY]) if f.rule == "ephemeral-storage"]
    assert findings == [
        "emptyDir tmp has no sizeLimit",
        "container web requests ephemeral-storage 1Gi, less than the sizeLimits of the "
        f"emptyDirs it mounts ({2 * 2**30} bytes)",
        f"the pod requests {2**30} bytes of ephemeral-storage, less than its emptyDirs' "
        f"sizeLimits ({2 * 2**30} bytes)"]


def test_statefulset_needs_a_headless_service() -> None:
    sts = copy.deepcopy(GOOD)
    sts["kind"] = "StatefulSet"
    sts["spec"]["serviceName"] = "web"
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web",
               "namespace": "app"}, "spec": {"type": "ClusterIP", "ports": [{"port": 80}]}}
    assert "statefulset-service" in _rules([sts, service, POLICY])
    service["spec"]["clusterIP"] = "None"
    assert "statefulset-service" not in _rules([sts, service, POLICY])


def test_exceptions_become_annotations_the_scanners_and_the_check_honour() -> None:
    exception = PolicyException(name="cpu", rule="cpu-limits",
                                reason="never throttle the model servers")
    annotations = scanner_annotations([exception])
    assert annotations == {
        "ai.platform/policy-exception.cpu-limits": "never throttle the model servers",
        "checkov.io/skip1": "CKV_K8S_11=never throttle the model servers",
        "ignore-check.kube-linter.io/unset-cpu-requirements": "never throttle the model servers",
        "polaris.fairwinds.com/cpuLimitsMissing-exempt": "true",
    }
    bad = copy.deepcopy(GOOD)
    del bad["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"]
    assert _rules([bad, POLICY]) == {"cpu-limits"}
    only_checkov = copy.deepcopy(bad)
    only_checkov["metadata"]["annotations"] = {"checkov.io/skip7": "CKV_K8S_11=reviewed"}
    [finding] = [f for f in evaluate([only_checkov, POLICY]) if f.rule == "cpu-limits"]
    assert finding.suppressed == "reviewed"


def test_every_rule_maps_to_a_scanner_or_explains_why_not() -> None:
    assert len(RULES_BY_ID) == len(RULES)
    unmapped = [r.id for r in RULES
                if not (r.checkov or r.kube_linter or r.polaris or r.kube_score)]
    # No scanner knows extended resources, nor aiplat-gen's weights annotations.
    assert unmapped == ["gpu-limits", "weights-checksum"]


def test_check_policy_refuses_only_the_examples_placeholders_and_a_seeded_violation(
        workspace: Path, cli: Callable[..., Result], shared: Path) -> None:
    assert cli("render", "--all").exit_code == 0
    crds = str(shared / "schemas" / "crds")
    ok = cli("check", "prod", "--policy", "--schema-location", crds)
    # The examples carry the placeholder sha256 (64 zeros): that, and nothing else, fails.
    assert ok.exit_code == 1, ok.output
    findings = [line for line in ok.stdout.splitlines() if ": policy " in line or
                "could not" in line or "error" in line]
    assert findings and all("policy weights-checksum:" in line for line in findings), findings
    assert "policy exception(s) declared" in ok.output
    target = next((workspace / "output" / "base" / "vllm").glob("statefulset-*.yaml"))
    doc = yaml.safe_load(target.read_text())
    doc["spec"]["template"]["spec"]["hostPID"] = True
    target.write_text(yaml.safe_dump(doc))
    failed = cli("check", "prod", "--policy", "--schema-location", crds)
    assert failed.exit_code == 1, failed.output
    assert len(failed.stdout.splitlines()) == len(ok.stdout.splitlines()) + 1
    assert "policy host-namespaces: the pod sets hostPID" in failed.output
    assert str(target.relative_to(workspace)) in failed.output
    shutil.rmtree(workspace / "output")
