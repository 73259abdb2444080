"""Every served model has the same alerts and dashboard row, whatever its engine: for every
example profile and golden profile (and the KServe golden with observability turned on), each
model Prometheus scrapes gets its rule group with the alerts its series allow and its dashboard
row with the panels they allow, expectations computed from the engine descriptors
(`engines.metrics_of`) and the profile, not from the output. The KServe rules name only
metrics of the facts table, each with the source of the vLLM KServe's runtime bundles."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from aiplat_gen.checks.validate import validate_file
from aiplat_gen.platform.engines import EngineMetrics, descriptor, metrics_of
from aiplat_gen.platform.facts.metrics import KSERVE_VLLM_VERSION, lookup
from aiplat_gen.platform.scraping import scrape_targets
from aiplat_gen.platform.telemetry import dcgm_scraped, hpa_name, on_mig, series_for
from aiplat_gen.profile.schema.profile import Profile
from aiplat_gen.profile.schema.serving import Model
from aiplat_gen.render.pipeline import render_profile
from conftest import REPO
from test_promql import _selected

KSERVE_GOLDEN = REPO / "tests" / "golden" / "serving-kserve" / "profiles"
PROFILES = sorted([*(REPO / "profiles").glob("*.yaml"),
                   *(REPO / "tests" / "golden").glob("*/profiles/*.yaml")])


def _observed_kserve(tmp: Path) -> list[Path]:
    """The KServe golden (Hugging Face and Triton runtimes; its `canary` overlay in Knative
    mode) with the example profiles' observability section added."""
    yaml = YAML()
    example = yaml.load((REPO / "profiles" / "base.yaml").read_text())
    paths = []
    for source in sorted(KSERVE_GOLDEN.glob("*.yaml")):
        doc = yaml.load(source.read_text())
        if "observability" not in doc["spec"] and "extends" not in doc:
            doc["spec"]["observability"] = example["spec"]["observability"]
        with (tmp / source.name).open("w") as out:
            yaml.dump(doc, out)
        paths.append(tmp / source.name)
    return paths


@pytest.fixture(scope="module")
def kserve_profiles(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return _observed_kserve(tmp_path_factory.mktemp("serving-kserve"))


def expected_alerts(profile: Profile, model: Model, exported: EngineMetrics) -> set[str]:
    """The alerts `render.components.alerts` must write for a model, from its series."""
    names = {"ModelLatencyHigh", "ModelErrorRateHigh", "ModelQueueBacklog",
             "ModelPodRestarting", "ModelOOMKilled"}
    if exported.kv_cache_usage is not None:
        names.add("ModelKVCacheNearlyFull")
    if dcgm_scraped(profile) and not on_mig(profile, model):
        names |= {"ModelGPUUtilizationLow", "ModelGPUUtilizationHigh"}
    if hpa_name(model) is not None:
        names.add("ModelAtMaxReplicas")
    return names


def expected_panels(profile: Profile, model: Model, exported: EngineMetrics) -> list[str]:
    """The panel titles of a model's dashboard row, from its series."""
    titles = ["Requests", "Throughput", "Errors", "Latency", "Queue"]
    if exported.kv_cache_usage is not None:
        titles.append("KV cache")
    if dcgm_scraped(profile) and not on_mig(profile, model):
        titles += ["GPU utilisation", "GPU memory"]
    return titles


def _rendered(path: Path) -> tuple[Profile, dict[str, list[dict[str, Any]]],
                                   dict[str, list[str]]]:
    """A profile, its rule groups by name and its dashboard rows (title: panel titles)."""
    profile = validate_file(path).profile
    objects = [o.obj for o in render_profile(profile).objects]
    groups = {g["name"]: g["rules"] for o in objects if o["kind"] == "PrometheusRule"
              for g in o["spec"]["groups"]}
    rows: dict[str, list[str]] = {}
    for o in objects:
        if o["kind"] == "ConfigMap" and o["metadata"]["name"].endswith("-models-dashboard"):
            for text in o["data"].values():
                current: list[str] = []
                for panel in json.loads(text)["panels"]:
                    if panel["type"] == "row":
                        current = rows.setdefault(panel["title"], [])
                    else:
                        current.append(panel["title"])
    return profile, groups, rows


def _check(path: Path) -> int:
    profile, groups, rows = _rendered(path)
    obs = profile.spec.observability
    scraped = {t.name for t in scrape_targets(profile) if t.kind == "model"}
    checked = 0
    for model in profile.spec.models:
        group = f"{model.namespace}.{model.name}"
        row = f"{model.name} ({model.engine}, {model.namespace})"
        if obs is None or model.name not in scraped:
            # Not scraped (no Prometheus, or a Knative KServe predictor): alerts would be blind.
            assert group not in groups and row not in rows, model.name
            continue
        exported = metrics_of(model)
        assert exported is not None, f"{model.name}: scraped, but its series are unknown"
        assert group in groups, f"{path.name}: {model.name} ({model.engine}) has no alerts"
        assert {r["alert"] for r in groups[group]} == expected_alerts(profile, model, exported)
        if obs.grafana.enabled:
            assert rows.get(row) == expected_panels(profile, model, exported), model.name
        checked += 1
    return checked


@pytest.mark.parametrize("path", PROFILES, ids=[str(p.relative_to(REPO)) for p in PROFILES])
def test_every_scraped_model_has_its_alerts_and_dashboard_row(path: Path) -> None:
    _check(path)


def test_kserve_models_of_both_runtimes_are_alerted_on_unless_knative(
        kserve_profiles: list[Path]) -> None:
    for path in kserve_profiles:
        profile = validate_file(path).profile
        kserve = [m for m in profile.spec.models if descriptor(m.engine).kserve_settings]
        assert kserve
        knative = [m for m in kserve
                   if m.kserve is not None and m.kserve.deployment_mode == "Knative"]
        assert _check(path) >= len(kserve) - len(knative)
    # The base has both runtimes in Standard mode; the canary overlay runs Knative.
    assert _check(kserve_profiles[0]) == 2


def test_kserve_alerts_name_only_metrics_of_the_facts_table_with_their_source(
        kserve_profiles: list[Path]) -> None:
    paths = [REPO / "profiles" / "prod.yaml", *kserve_profiles]
    seen: set[str] = set()
    for path in paths:
        profile, groups, _ = _rendered(path)
        for model in profile.spec.models:
            group = groups.get(f"{model.namespace}.{model.name}")
            if not descriptor(model.engine).kserve_settings or group is None:
                continue
            for rule in group:
                for name in _selected(rule["expr"]):
                    found = lookup(name)
                    assert found is not None, f"{rule['alert']}: {name} is not in the table"
                    metric = found[0]
                    assert metric.source, name
                    if metric.exporter == "vllm":
                        # The runtime's vLLM, not the one `engine: vllm` pins.
                        assert f"v{KSERVE_VLLM_VERSION}" in metric.source, name
                    seen.add(metric.exporter)
    assert {"vllm", "triton", "kube-state-metrics", "dcgm"} <= seen


def test_kserve_pod_queries_match_the_predictor_pods() -> None:
    # KServe's Standard predictor is the Deployment `<name>-predictor`
    # (kserve/kserve v0.20.0 pkg/constants PredictorServiceName).
    profile = validate_file(REPO / "profiles" / "prod.yaml").profile
    (model,) = [m for m in profile.spec.models if descriptor(m.engine).kserve_settings]
    regex = re.compile(series_for(profile, model).pod_regex)
    assert regex.fullmatch(f"{model.name}-predictor-5d9f7c8b4-x2x9z")
    assert not regex.fullmatch(f"{model.name}-weights-0fbc7d76dd-abcde")
