"""Autoscaling: the workload leaves `replicas` to KEDA or the HPA, triggers are what KEDA
expects, scale to zero wakes up, ArgoCD ignores autoscaled replicas, and GPU queries use the
label names the GPU Operator values produce."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from aiplat_gen.checks.validate import validate_file, validate_source
from aiplat_gen.profile.merge import load_profile
from aiplat_gen.profile.schema.profile import Profile
from aiplat_gen.render.components.base import RenderContext
from aiplat_gen.render.pipeline import render_full, render_profile
from aiplat_gen.render.rendered import FullRender
from conftest import REPO

GOLDEN = REPO / "tests" / "golden"
PROFILES = sorted([*(REPO / "profiles").glob("*.yaml"), *GOLDEN.glob("*/profiles/*.yaml")])


def _render(path: Path) -> tuple[Profile, FullRender]:
    profile = validate_file(path).profile
    return profile, render_profile(profile)


def _objects(full: FullRender, kind: str) -> dict[str, dict[str, Any]]:
    return {o.obj["metadata"]["name"]: o.obj for o in full.objects if o.obj["kind"] == kind}


def test_autoscaled_workloads_carry_no_replicas() -> None:
    profile, full = _render(REPO / "profiles" / "prod.yaml")
    workloads = {**_objects(full, "StatefulSet"), **_objects(full, "Deployment")}
    for model in profile.spec.models:
        if model.engine not in ("vllm", "triton"):
            continue
        spec = workloads[model.name]["spec"]
        if model.autoscaling is not None:
            assert "replicas" not in spec, model.name
        else:
            assert spec["replicas"] == model.replicas, model.name
    assert {m.name for m in profile.spec.models if m.autoscaling} == {"llama-8b", "llama-70b"}


@pytest.mark.parametrize("path", PROFILES, ids=[str(p.relative_to(REPO)) for p in PROFILES])
def test_keda_triggers_are_what_keda_expects(path: Path) -> None:
    profile, full = _render(path)
    models = {m.name: m for m in profile.spec.models}
    for name, obj in _objects(full, "ScaledObject").items():
        settings = models[name].autoscaling
        assert settings is not None and settings.engine == "keda"
        spec = obj["spec"]
        assert obj["apiVersion"] == "keda.sh/v1alpha1"
        assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (
            settings.min_replicas, settings.max_replicas)
        prometheus = [t for t in spec["triggers"] if t["type"] == "prometheus"]
        assert prometheus[0]["name"] == "queue-depth"
        for trigger in spec["triggers"]:
            assert all(isinstance(v, str) for v in trigger["metadata"].values()), trigger
            assert "metricName" not in trigger["metadata"]
        for trigger in prometheus:
            meta = trigger["metadata"]
            # Fallback works only with AverageValue/Value targets: every trigger is AverageValue.
            assert trigger["metricType"] == "AverageValue"
            assert meta["query"].startswith("sum(")
            assert float(meta["threshold"]) > 0
            assert meta["ignoreNullValues"] == ("true" if settings.min_replicas == 0 else "false")
            assert ("activationThreshold" in meta) == (settings.min_replicas == 0)
        behavior = spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
        assert behavior["scaleDown"]["stabilizationWindowSeconds"] == \
            settings.scale_down_stabilization_seconds


def test_scale_to_zero_wakes_on_schedule_and_activates_on_queue() -> None:
    _, full = _render(GOLDEN / "autoscaling-scale-to-zero" / "profiles" / "base.yaml")
    spec = _objects(full, "ScaledObject")["mistral-7b"]["spec"]
    assert spec["minReplicaCount"] == 0
    triggers = {t["name"]: t for t in spec["triggers"]}
    assert triggers["queue-depth"]["metadata"]["activationThreshold"] == "1"
    assert triggers["wake-schedule"] == {"type": "cron", "name": "wake-schedule", "metadata": {
        "timezone": "Europe/Berlin", "start": "0 8 * * 1-5", "end": "0 18 * * 1-5",
        "desiredReplicas": "1"}}


def test_prometheus_auth_makes_a_trigger_authentication_per_namespace() -> None:
    _, full = _render(GOLDEN / "autoscaling-keda" / "profiles" / "base.yaml")
    auth = _objects(full, "TriggerAuthentication")["prometheus-auth"]
    assert auth["spec"]["secretTargetRef"] == [
        {"parameter": "bearerToken", "name": "prometheus-query-token", "key": "token"}]
    for obj in _objects(full, "ScaledObject").values():
        for trigger in obj["spec"]["triggers"]:
            if trigger["type"] == "prometheus":
                assert trigger["metadata"]["authModes"] == "bearer"
                assert trigger["authenticationRef"] == {"name": "prometheus-auth"}


def test_hpa_metrics_are_served_by_the_adapter_rules() -> None:
    _, full = _render(GOLDEN / "autoscaling-hpa" / "profiles" / "base.yaml")
    hpa = _objects(full, "HorizontalPodAutoscaler")["llama-8b"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert "replicas" not in _objects(full, "Deployment")["llama-8b"]["spec"]
    rules = {r["name"]["as"] for r in full.helm_values["prometheus-adapter"]["rules"]["custom"]}
    assert {m["pods"]["metric"]["name"] for m in hpa["spec"]["metrics"]} == rules
    adapter = full.helm_values["prometheus-adapter"]["prometheus"]
    assert adapter == {"url": "https://prometheus.observability.svc", "port": 9091,
                       "path": "/prometheus"}


def test_argocd_ignores_the_replicas_of_every_autoscaled_workload() -> None:
    path = REPO / "profiles" / "prod.yaml"
    profile, full = _render(path)
    _, base_full = _render(REPO / "profiles" / "base.yaml")
    from aiplat_gen.render.components.argocd import render as argocd

    objects = argocd(RenderContext(profile), [("base", base_full), ("prod", full)])
    app = next(o for o in objects
               if o["kind"] == "Application" and o["metadata"]["name"] == "acme-ai-prod")
    ignored = {(e["kind"], e["name"]) for e in app["spec"]["ignoreDifferences"]}
    assert ignored == {("StatefulSet", m.name) for m in profile.spec.models if m.autoscaling}
    assert "RespectIgnoreDifferences=true" in app["spec"]["syncPolicy"]["syncOptions"]


def _with_honor_labels(path: Path, honor: bool) -> FullRender:
    """The profile at path, with the DCGM ServiceMonitor's honorLabels set."""
    source = load_profile(path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["spec"].setdefault("gpuOperator", {})["dcgmHonorLabels"] = honor
    profile = Profile.model_validate(data)
    assert validate_source(source).profile is not None
    return render_full(RenderContext(profile))


@pytest.mark.parametrize(("honor", "ns", "pod"), [(False, "exported_namespace", "exported_pod"),
                                                  (True, "namespace", "pod")])
def test_gpu_queries_and_gpu_operator_values_agree(honor: bool, ns: str, pod: str) -> None:
    full = _with_honor_labels(GOLDEN / "autoscaling-keda" / "profiles" / "base.yaml", honor)
    dcgm = full.helm_values["gpu-operator"]["dcgmExporter"]["serviceMonitor"]
    assert dcgm["honorLabels"] is honor
    assert dcgm["additionalLabels"] == {"release": "kube-prometheus-stack"}
    trigger = next(t for t in _objects(full, "ScaledObject")["qwen-14b"]["spec"]["triggers"]
                   if t["name"] == "gpu-utilization")
    query = trigger["metadata"]["query"]
    assert query == (f'sum(DCGM_FI_DEV_GPU_UTIL{{{ns}="llm",{pod}=~"qwen-14b-[0-9]+"}}) / 2')
    rules = _objects(full, "PrometheusRule")["lab-models"]["spec"]["groups"]
    gpu_rules = [r["expr"] for g in rules for r in g["rules"] if "DCGM" in r["expr"]]
    assert gpu_rules and all(f'{pod}=~"' in e for e in gpu_rules)
    if honor:
        assert not any("exported_" in e for e in gpu_rules)
