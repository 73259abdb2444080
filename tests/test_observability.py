"""Observability: a monitor per model server with the labels the Prometheus selects, alerts
with severity, summary, description and runbook link, a dashboard that is valid JSON generated
from the profile, and tracing flags only when a collector is named."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from aiplat_gen.checks.validate import validate_file
from aiplat_gen.platform.engines import descriptor
from aiplat_gen.platform.telemetry import monitored_models
from aiplat_gen.profile.schema.observability import Observability
from aiplat_gen.profile.schema.profile import Profile
from aiplat_gen.render.components.dashboards import (
    _NOT_PLAIN,
    _indented,
    dashboard,
    queries,
)
from aiplat_gen.render.pipeline import render_profile
from aiplat_gen.render.rendered import FullRender
from conftest import REPO

GOLDEN = REPO / "tests" / "golden"
OBSERVED = [REPO / "profiles" / "prod.yaml", REPO / "profiles" / "dev.yaml",
            *sorted(GOLDEN.glob("autoscaling-*/profiles/*.yaml"))]
MONITOR_KINDS = ("ServiceMonitor", "PodMonitor")


def _render(path: Path) -> FullRender:
    return render_profile(validate_file(path).profile)


def _kind(full: FullRender, kind: str) -> list[dict[str, Any]]:
    return [o.obj for o in full.objects if o.obj["kind"] == kind]


Observed = tuple[Profile, FullRender, Observability]


@pytest.fixture(params=OBSERVED, ids=[str(p.relative_to(REPO)) for p in OBSERVED])
def observed(request: pytest.FixtureRequest) -> Observed:
    """A profile with observability, its full render and its observability settings."""
    profile = validate_file(request.param).profile
    obs = profile.spec.observability
    assert obs is not None
    return profile, render_profile(profile), obs


def test_every_model_server_is_scraped_through_its_metrics_port(observed: Observed) -> None:
    profile, full, obs = observed
    # Models with a Service of their own (KServe's predictor Service is KServe's: its pods are
    # scraped through a PodMonitor, `test_engines`).
    served = [m for m in profile.spec.models if not descriptor(m.engine).kserve_settings]
    monitors = {o["metadata"]["name"]: o for k in MONITOR_KINDS for o in _kind(full, k)
                if "ai.platform/model" in o["metadata"]["labels"]
                and o["metadata"]["name"] in {m.name for m in served}}
    services = {o["metadata"]["name"]: o for o in _kind(full, "Service")}
    assert sorted(monitors) == sorted(m.name for m in served)
    for model in served:
        monitor = monitors[model.name]
        assert monitor["kind"] == obs.prometheus.scrape_with
        labels = monitor["metadata"]["labels"]
        assert obs.prometheus.monitor_labels.items() <= labels.items()
        spec = monitor["spec"]
        endpoints = spec.get("endpoints") or spec["podMetricsEndpoints"]
        port = endpoints[0]["port"]
        service = services[model.name]
        assert port in {p["name"] for p in service["spec"]["ports"]}
        assert port == ("http" if model.engine == "vllm" else "metrics")
        assert spec["selector"]["matchLabels"] == service["spec"]["selector"]
        assert spec["podTargetLabels"] == ["ai.platform/model"]


def test_alerts_have_severity_summary_description_and_runbook(observed: Observed) -> None:
    profile, full, obs = observed
    (rule,) = _kind(full, "PrometheusRule")
    assert rule["metadata"]["namespace"] == obs.namespace
    assert obs.prometheus.rule_labels.items() <= rule["metadata"]["labels"].items()
    alerts = [r for g in rule["spec"]["groups"] for r in g["rules"]]
    names = {a["alert"] for a in alerts}
    assert {"ModelLatencyHigh", "ModelErrorRateHigh", "ModelQueueBacklog", "ModelPodRestarting",
            "ModelOOMKilled"} <= names
    if any(m.autoscaling for m in profile.spec.models):
        assert "ModelAtMaxReplicas" in names
    for alert in alerts:
        assert alert["labels"]["severity"] in ("warning", "critical")
        annotations = alert["annotations"]
        assert annotations["summary"] and annotations["description"]
        assert annotations["runbook_url"].startswith(obs.runbook_base_url.rstrip("/") + "/")
        assert annotations["runbook_url"].endswith(".md")


def test_gpu_alerts_are_left_out_on_mig_slices() -> None:
    full = _render(GOLDEN / "autoscaling-scale-to-zero" / "profiles" / "base.yaml")
    (rule,) = _kind(full, "PrometheusRule")
    exprs = [r["expr"] for g in rule["spec"]["groups"] for r in g["rules"]]
    assert exprs and not any("DCGM" in e for e in exprs)
    keda = _render(GOLDEN / "autoscaling-keda" / "profiles" / "base.yaml")
    (rule,) = _kind(keda, "PrometheusRule")
    assert any("DCGM" in r["expr"] for g in rule["spec"]["groups"] for r in g["rules"])


def test_dashboard_is_valid_json_generated_from_the_profile(observed: Observed) -> None:
    profile, full, obs = observed
    (config_map,) = _kind(full, "ConfigMap")
    assert config_map["metadata"]["labels"][obs.grafana.sidecar_label] == \
        obs.grafana.sidecar_label_value
    (text,) = config_map["data"].values()
    board = json.loads(text)
    assert len(board["uid"]) <= 40 and board["title"]
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    rows = [p["title"] for p in board["panels"] if p["type"] == "row"]
    served = monitored_models(profile)
    assert rows == [f"{m.name} ({m.engine}, {m.namespace})" for m in served]
    for panel in board["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24
        if panel["type"] != "row":
            assert panel["targets"] and all(t["expr"] for t in panel["targets"])
    assert len(queries(board)) >= 6 * len(served)
    # Same profile, same bytes.
    assert text == next(iter(_kind(render_profile(profile), "ConfigMap")))["data"][
        next(iter(config_map["data"]))]


def test_nothing_is_observed_without_spec_observability() -> None:
    full = _render(GOLDEN / "serving-vllm" / "profiles" / "base.yaml")
    kinds = {o.obj["kind"] for o in full.objects}
    assert not kinds & {"ServiceMonitor", "PodMonitor", "PrometheusRule", "ScaledObject"}
    assert "additionalLabels" not in full.helm_values["gpu-operator"]["dcgmExporter"][
        "serviceMonitor"]


def test_tracing_flags_only_with_a_collector() -> None:
    traced = _render(GOLDEN / "autoscaling-keda" / "profiles" / "base.yaml")
    (sts,) = [o for o in _kind(traced, "StatefulSet") if o["metadata"]["name"] == "qwen-14b"]
    container = sts["spec"]["template"]["spec"]["containers"][0]
    args = container["args"]
    assert args[args.index("--otlp-traces-endpoint") + 1] == \
        "http://otel-collector.observability.svc:4317"
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["OTEL_SERVICE_NAME"] == "qwen-14b"
    plain = _render(GOLDEN / "autoscaling-hpa" / "profiles" / "base.yaml")
    (deployment,) = _kind(plain, "Deployment")
    assert "--otlp-traces-endpoint" not in deployment["spec"]["template"]["spec"][
        "containers"][0]["args"]


# Any JSON value a dashboard could hold: the awkward ones (non-ASCII and control characters,
# exponent and non-finite floats, integers beyond 64 bits) included.
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20)


@settings(max_examples=500, deadline=None)
@given(_JSON)
@example(1e-05)  # json: 1e-05, orjson: 0.00001
@example(1.5e-07)  # json: 1.5e-07, orjson: 1.5e-7
@example(2**64)  # orjson refuses it
@example(math.nan)  # json: NaN, orjson: null
@example({"expr": "x > 1e6", "caf\u00e9": "\x7f"})
def test_dashboard_text_is_jsons_indentation_byte_for_byte(value: Any) -> None:
    """The dashboard's indented text (orjson where its bytes are json's) is exactly what
    `json.dumps(indent=2, sort_keys=True)` writes, whatever the values."""
    compact = json.dumps(value, sort_keys=True)
    assert _indented.__wrapped__(compact) == json.dumps(value, indent=2, sort_keys=True) + "\n"


def test_the_example_dashboards_are_indented_by_orjson(observed: Observed) -> None:
    """The example dashboards take the fast path (else the speed-up would silently be gone)."""
    profile, _, _ = observed
    compact = json.dumps(dashboard(profile, monitored_models(profile)), sort_keys=True)
    assert not _NOT_PLAIN.search(compact)
    board = orjson.dumps(json.loads(compact), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    assert not _NOT_PLAIN.search(board.decode())
