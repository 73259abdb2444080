"""`aiplat-gen simulate` and `check --cluster` on a real control plane (etcd, kube-apiserver,
kube-controller-manager, kube-scheduler from scripts/install-controlplane.sh): every example
profile, every `init` scaffold and every golden case is accepted, admitted and scheduled at min
and max; the harness refuses what a real API server refuses; `check --cluster` reports the
server's own words."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import Result

from aiplat_gen.checks.selection import select, validate_many
from aiplat_gen.core.settings import Settings
from aiplat_gen.render.scaffold import EXAMPLES
from aiplat_gen.verify.kube.controlplane import control_plane, crd_snapshot, find_binaries
from aiplat_gen.verify.simulate import SimulateOptions, crd_files, simulate_environment
from aiplat_gen.verify.simulate.cluster import nodes, operator_namespaces
from aiplat_gen.verify.simulate.run import apply_order, scalings
from conftest import REPO

GOLDEN = REPO / "tests" / "golden"
CACHE = REPO / ".tools" / "cache"
"""The etcd snapshot with every CRD installed is kept here between runs (about a minute to make)."""


@pytest.fixture(scope="session")
def k8s_bin() -> Path:
    """The control plane's binaries; a missing one fails the run (the test command builds
    them), it never skips."""
    return find_binaries(None)["kube-apiserver"].parent


@pytest.fixture(scope="session")
def crds(shared: Path) -> Path:
    return shared / "crds"


@pytest.fixture
def sim_env(monkeypatch: pytest.MonkeyPatch, crds: Path, k8s_bin: Path) -> Path:
    """The environment `aiplat-gen simulate` runs in: CRDs and the snapshot cache."""
    monkeypatch.setenv("AIPLAT_GEN_CACHE", str(CACHE))
    monkeypatch.setenv("AIPLAT_GEN_CRDS", str(crds))
    return crds


def _report(result: Result) -> dict[str, Any]:
    assert result.stdout.strip(), result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def _assert_all_started(report: dict[str, Any], names: list[str]) -> None:
    assert [e["profile"] for e in report["environments"]] == names
    for env in report["environments"]:
        assert env["refusals"] == [], env["profile"]
        assert env["accepted"] == env["objects"] > 0, env["profile"]
        assert env["disagreements"] == [], env["profile"]
        for at in ("min", "max"):
            pods = env["pods"][at]
            assert pods["bound"] == pods["wanted"], (env["profile"], at)
            for workload in pods["workloads"]:
                assert workload["created"] == workload["bound"] == workload["wanted"], workload
        for pool in env["pools"]:
            assert pool["min"] <= pool["max"] <= pool["offered"], pool
    assert report["ok"] is True


# -- the example platform, the scaffolds, the goldens ------------------------------------------

def test_example_profiles_start(workspace: Path, sim_env: Path,
                                cli: Callable[..., Result]) -> None:
    shutil.copytree(REPO / "output", workspace / "output")
    result = cli("simulate", "--all", "--format", "json")
    assert result.exit_code == 0, result.output
    report = _report(result)
    _assert_all_started(report, ["base", "dev", "prod", "staging"])
    prod = next(e for e in report["environments"] if e["profile"] == "prod")
    # Autoscaled models really move between their bounds: more pods at max than at min.
    assert prod["pods"]["max"]["wanted"] > prod["pods"]["min"]["wanted"]
    assert any(p["max"] > 0 for p in prod["pools"])
    text = cli("simulate", "prod")
    assert text.exit_code == 0, text.output
    assert text.stdout.splitlines()[-1] == "simulate: ok (1 environment(s))"


@pytest.mark.parametrize("example", EXAMPLES)
def test_scaffolds_start(example: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                         sim_env: Path, cli: Callable[..., Result]) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli("init", "--example", example).exit_code == 0
    rendered = cli("render", "--all")
    assert rendered.exit_code == 0, rendered.output
    result = cli("simulate", "--all", "--format", "json")
    assert result.exit_code == 0, result.output
    _assert_all_started(_report(result), ["base", "dev", "prod"])


@pytest.mark.parametrize("case", sorted(p.name for p in GOLDEN.iterdir() if p.is_dir()))
def test_golden_cases_start(case: str, sim_env: Path, cli: Callable[..., Result]) -> None:
    folder = GOLDEN / case
    result = cli("simulate", "--all", "--profiles-dir", str(folder / "profiles"),
                 "--out", str(folder / "expected"), "--format", "json")
    assert result.exit_code == 0, result.output
    names = sorted(p.stem for p in (folder / "profiles").glob("*.yaml"))
    _assert_all_started(_report(result), names)


# -- the harness can fail ----------------------------------------------------------------------

def _base() -> Any:
    (validated,) = validate_many(select(["base"], False, Settings(REPO / "profiles")))
    return validated


@pytest.fixture(scope="module")
def snapshot(shared: Path, k8s_bin: Path) -> Path:
    return crd_snapshot(crd_files(shared / "crds"), CACHE / "controlplane", k8s_bin)


def test_the_api_server_refuses_what_kubernetes_refuses(snapshot: Path, k8s_bin: Path) -> None:
    """Hand-written objects a real API server refuses: a PriorityClass above the user maximum,
    and pods whose CPU request exceeds the LimitRange's default CPU limit (the defect that kept
    4 of 5 prod workloads from starting)."""
    vp = _base()
    cpu_pool = vp.profile.spec.node_pools[0].name
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "trial"}}
    priority = {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                "metadata": {"name": "too-high"}, "value": 2_000_000_000}
    limits = {"apiVersion": "v1", "kind": "LimitRange",
              "metadata": {"name": "defaults", "namespace": "trial"},
              "spec": {"limits": [{"type": "Container", "default": {"cpu": "1"}}]}}
    container = {"name": "server", "image": "registry.example/server:1.0",
                 "resources": {"requests": {"cpu": "8", "memory": "1Gi"}}}
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": {"name": "server", "namespace": "trial"},
                  "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "server"}},
                           "template": {"metadata": {"labels": {"app": "server"}},
                                        "spec": {"nodeSelector": {"ai.platform/node-pool":
                                                                  cpu_pool},
                                                 "containers": [container]}}}}
    result = simulate_environment(vp, [namespace, priority, limits, deployment], [],
                                  SimulateOptions(REPO / "output", k8s_bin=k8s_bin), snapshot)
    assert not result.ok
    (refused,) = result.refusals
    assert refused.refusal.kind == "PriorityClass"
    assert "1000000000" in refused.refusal.message
    low = result.snapshots["min"]
    (server,) = low.workloads
    assert (server.wanted, server.created, server.bound) == (2, 0, 0)
    assert any("must be less than or equal to cpu limit of 1" in p for p in server.problems)
    assert any("must be less than or equal to cpu limit of 1" in d
               for d in result.disagreements)


def test_missing_binaries_exit_2_and_say_how_to_build(workspace: Path, tmp_path: Path,
                                                     cli: Callable[..., Result]) -> None:
    shutil.copytree(REPO / "output", workspace / "output")
    result = cli("simulate", "prod", "--k8s-bin", str(tmp_path / "none"))
    assert result.exit_code == 2, result.output
    assert "scripts/install-controlplane.sh" in result.stderr


# -- check --cluster ---------------------------------------------------------------------------

@pytest.fixture
def cluster(snapshot: Path, k8s_bin: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with control_plane(k8s_bin, etcd_data=snapshot, controllers=False) as plane:
        monkeypatch.setenv("KUBECONFIG", str(plane.workdir / "kubeconfig"))
        yield plane


def test_check_cluster_dry_runs_every_object(workspace: Path, cluster: Any,
                                             cli: Callable[..., Result]) -> None:
    shutil.copytree(REPO / "output", workspace / "output")
    first = cli("check", "--cluster", "prod")
    assert first.exit_code == 1, first.output
    assert "skipped" in first.stdout  # the tree's own namespaces do not exist yet
    # ArgoCD is the cluster's: its namespace is missing on this bare one.
    refused = [ln for ln in first.stdout.splitlines() if "refused: " in ln]
    assert refused and all('namespaces "argocd" not found' in ln for ln in refused)
    rendered = yaml.safe_load_all((workspace / "output" / "base" / "cluster").joinpath(
        "namespace-llm-serving.yaml").read_text("utf-8"))
    for obj in rendered:
        cluster.client.apply(obj)
    for name in ("rag-data", "ai-gateway", "monitoring", "argocd"):
        cluster.client.apply({"apiVersion": "v1", "kind": "Namespace",
                              "metadata": {"name": name}})
    second = cli("check", "--cluster", "prod")
    assert second.exit_code == 0, second.output
    assert "0 refused" in second.stdout


def test_check_cluster_reports_the_servers_refusal(workspace: Path, cluster: Any,
                                                   cli: Callable[..., Result]) -> None:
    shutil.copytree(REPO / "output", workspace / "output")
    cluster.client.apply({"apiVersion": "v1", "kind": "Namespace",
                          "metadata": {"name": "llm-serving"}})
    quota_file = workspace / "output" / "base" / "cluster" / "resourcequota-llm-serving-quota.yaml"
    quota = yaml.safe_load(quota_file.read_text("utf-8"))
    quota["spec"]["hard"]["requests.cpu"] = "lots"
    quota_file.write_text(yaml.safe_dump(quota), "utf-8")
    result = cli("check", "--cluster", "base")
    assert result.exit_code == 1, result.output
    line = next(ln for ln in result.stdout.splitlines() if "refused: " in ln)
    assert "resourcequota-llm-serving-quota.yaml" in line and "quantities must match" in line
    assert "profiles/base.yaml:" in line  # the namespace entry that produced it


def test_check_cluster_without_a_context_is_a_usage_error(
        workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        cli: Callable[..., Result]) -> None:
    shutil.copytree(REPO / "output", workspace / "output")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    result = cli("check", "--cluster", "prod")
    assert result.exit_code == 2, result.output
    assert "no kubeconfig context" in result.stderr


# -- pieces ------------------------------------------------------------------------------------

def test_apply_order_is_argocds() -> None:
    def obj(kind: str, name: str, wave: str | None = None) -> dict[str, Any]:
        meta: dict[str, Any] = {"name": name}
        if wave is not None:
            meta["annotations"] = {"argocd.argoproj.io/sync-wave": wave}
        return {"kind": kind, "metadata": meta}

    objects = [obj("Deployment", "a"), obj("ScaledObject", "a"), obj("LimitRange", "a"),
               obj("Namespace", "a"), obj("ResourceQuota", "a"), obj("Namespace", "b", "-1")]
    ordered = [(o["kind"], o["metadata"]["name"]) for o in sorted(objects, key=apply_order)]
    assert ordered == [("Namespace", "b"), ("Namespace", "a"), ("ResourceQuota", "a"),
                       ("LimitRange", "a"), ("Deployment", "a"), ("ScaledObject", "a")]


def test_scalings_use_the_autoscalers_defaults() -> None:
    keda = {"kind": "ScaledObject", "metadata": {"namespace": "ns"},
            "spec": {"scaleTargetRef": {"name": "m"}}}
    hpa = {"kind": "HorizontalPodAutoscaler", "metadata": {"namespace": "ns"},
           "spec": {"scaleTargetRef": {"kind": "StatefulSet", "name": "s"}, "maxReplicas": 3}}
    found = [(s.kind, s.name, s.minimum, s.maximum) for s in scalings([keda, hpa])]
    assert found == [("Deployment", "m", 0, 100), ("StatefulSet", "s", 1, 3)]


def test_nodes_offer_what_the_pools_give() -> None:
    (dev,) = validate_many(select(["dev"], False, Settings(REPO / "profiles")))
    made = {n["metadata"]["name"]: s for n, s in nodes(dev.profile)}
    pools = {p.name: p for p in dev.profile.spec.node_pools}
    assert len(made) == sum(p.nodes for p in pools.values())
    mig = pools["gpu-a100-mig"]
    if mig.nodes:
        status = made["gpu-a100-mig-0"]
        assert status["allocatable"]["nvidia.com/gpu"] == "16"  # 8 GPUs x 2 3g.40gb slices
        assert status["allocatable"]["cpu"] == mig.cpu


def test_operator_namespaces_follow_create_namespace() -> None:
    apps = [{"kind": "Application", "spec": {
        "destination": {"namespace": "gpu-operator"},
        "syncPolicy": {"syncOptions": ["CreateNamespace=true"], "managedNamespaceMetadata": {
            "labels": {"pod-security.kubernetes.io/enforce": "privileged"}}}}},
        {"kind": "Application", "spec": {"destination": {"namespace": "other"}}}]
    (ns,) = operator_namespaces(apps)
    assert ns["metadata"] == {"name": "gpu-operator", "labels": {
        "pod-security.kubernetes.io/enforce": "privileged"}}
