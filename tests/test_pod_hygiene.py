"""Pod hygiene of the committed output tree and the golden trees (issue 15, items 3, 10-12):
object store credentials reach Triton, a model's only replica is not consolidated away, every
StatefulSet is governed by a headless Service, and scratch space is bounded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from aiplat_gen.checks.policy.engine import evaluate
from aiplat_gen.checks.policy.rules import pod_template
from aiplat_gen.platform import cloud_credentials
from aiplat_gen.platform.workload_resources import LOG_ALLOWANCE
from aiplat_gen.profile.schema.types import parse_quantity
from aiplat_gen.render.components.serving_common import DO_NOT_DISRUPT

ROOT = Path(__file__).resolve().parent.parent
TREES = [ROOT / "output", *sorted((ROOT / "tests" / "golden").glob("*/expected"))]


def _objects(tree: Path) -> list[dict[str, Any]]:
    found = []
    for path in sorted(tree.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if isinstance(doc, dict) and "kind" in doc:
                found.append(doc)
    return found


def _trees() -> Iterator[Any]:
    for tree in TREES:
        yield pytest.param(tree, id=str(tree.relative_to(ROOT)))


@pytest.mark.parametrize("tree", list(_trees()))
def test_statefulsets_are_governed_by_headless_services(tree: Path) -> None:
    objects = _objects(tree)
    headless = {(o["metadata"].get("namespace"), o["metadata"]["name"]) for o in objects
                if o["kind"] == "Service" and o["spec"].get("clusterIP") == "None"}
    for obj in objects:
        if obj["kind"] == "StatefulSet":
            key = (obj["metadata"].get("namespace"), obj["spec"]["serviceName"])
            assert key in headless, f"{obj['metadata']['name']}: {key} is not headless"
    assert not [f for f in evaluate(objects) if f.rule == "statefulset-service"]


@pytest.mark.parametrize("tree", list(_trees()))
def test_scratch_space_is_bounded(tree: Path) -> None:
    """Every disk-backed emptyDir has a sizeLimit; every container requests and limits
    ephemeral-storage >= the sizeLimits of the emptyDirs it mounts + the log allowance."""
    log = parse_quantity(LOG_ALLOWANCE)
    for obj in _objects(tree):
        pod = pod_template(obj)
        if pod is None:
            continue
        sizes = {}
        for volume in pod.spec.get("volumes") or []:
            empty = volume.get("emptyDir")
            if empty is not None and empty.get("medium") != "Memory":
                assert "sizeLimit" in empty, f"{obj['metadata']['name']}: {volume['name']}"
                sizes[volume["name"]] = parse_quantity(empty["sizeLimit"])
        for c in pod.all_containers:
            mounted = sum(sizes.get(m["name"], 0) for m in c.get("volumeMounts") or [])
            res = c["resources"]
            assert parse_quantity(res["requests"]["ephemeral-storage"]) >= mounted + log, c["name"]
            assert res["limits"]["ephemeral-storage"] == res["requests"]["ephemeral-storage"]
    assert not [f for f in evaluate(_objects(tree)) if f.rule == "ephemeral-storage"]


def test_only_replicas_on_karpenter_pools_are_not_disrupted() -> None:
    """llama-70b (prod) autoscales from one replica on the Karpenter pool gpu-h100."""
    objects = _objects(ROOT / "output")
    found = {}
    for obj in objects:
        if obj["kind"] in ("Deployment", "StatefulSet"):
            annotations = obj["spec"]["template"]["metadata"].get("annotations") or {}
            found[obj["metadata"]["name"]] = annotations.get(DO_NOT_DISRUPT)
    assert found["llama-70b"] == "true"
    assert found["rag-encoders"] is None  # two replicas: the PDB keeps one


def test_triton_s3_credentials_are_rendered() -> None:
    """prod's rag-encoders reads s3:// with IRSA: role annotation, region env, egress."""
    objects = _objects(ROOT / "output" / "overlays" / "prod")
    account = next(o for o in objects if o["kind"] == "ServiceAccount"
                   and o["metadata"]["name"] == "rag-encoders")
    assert account["metadata"]["annotations"][cloud_credentials.IRSA_ANNOTATION].startswith(
        "arn:aws:iam::")
    deployment = next(o for o in objects if o["kind"] == "Deployment"
                      and o["metadata"]["name"] == "rag-encoders")
    env = {e["name"]: e.get("value") for e in
           deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["AWS_DEFAULT_REGION"] == env["AWS_REGION"] == "us-east-1"
    policy = next(o for o in objects if o["kind"] == "NetworkPolicy"
                  and o["metadata"]["name"] == "workload-rag-encoders")
    assert "s3.us-east-1.amazonaws.com" in policy["metadata"]["annotations"][
        "ai.platform/egress-hosts"]
    assert any(p.get("port") == 443 for rule in policy["spec"]["egress"]
               for p in rule.get("ports") or [])


def test_pod_identity_reaches_its_agent() -> None:
    """gateway-envoy-ai's encoders use EKS Pod Identity: egress to the agent on 80."""
    objects = _objects(ROOT / "tests" / "golden" / "gateway-envoy-ai" / "expected")
    policy = next(o for o in objects if o["kind"] == "NetworkPolicy"
                  and o["metadata"]["name"] == "workload-encoders")
    rules = policy["spec"]["egress"]
    assert {"to": [{"ipBlock": {"cidr": cloud_credentials.POD_IDENTITY_AGENT}}],
            "ports": [{"protocol": "TCP", "port": 80}]} in rules
