"""Engine descriptors: every engine has one, what they say is what gets rendered, and a new engine
cannot slip through: the code that dispatches on engines fails type checking until it is handled."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, get_args

import pytest

from aiplat_gen.checks.validate import validate_file
from aiplat_gen.platform.engines import ENGINES, EngineDescriptor, descriptor, runtime_of
from aiplat_gen.platform.engines.kserve import declared_ports
from aiplat_gen.platform.facts.metrics import METRICS, Metric
from aiplat_gen.profile.schema.profile import Profile
from aiplat_gen.profile.schema.serving import Engine
from aiplat_gen.render.components.base import RenderContext
from aiplat_gen.render.components.registry import COMPONENTS
from aiplat_gen.render.pipeline import render_full
from conftest import REPO

EXAMPLES = sorted(p.stem for p in (REPO / "profiles").glob("*.yaml"))
BIN = Path(sys.executable).parent


def _metrics_of(engine: EngineDescriptor) -> list[Metric]:
    m = engine.metrics
    if m is None:
        return []
    timings = [m.latency, m.queue_time, *([m.time_to_first_token] if m.time_to_first_token
                                          else [])]
    named = [m.queue_depth, m.requests, m.running, m.kv_cache_usage, m.errors.failed,
             m.errors.total, *(t.metric for t in timings), *(c for _, c in m.throughput)]
    return [x for x in named if x is not None]


def test_every_engine_has_a_descriptor_and_a_component() -> None:
    assert ENGINES == get_args(Engine)
    for engine in ENGINES:
        d = descriptor(engine)
        assert d.name == engine
        assert engine in COMPONENTS
        assert d.runtimes, engine
        assert d.api_ports and d.api_ports[0].name == "http", engine


@pytest.mark.parametrize("engine", ENGINES)
def test_descriptor_metrics_are_the_fact_tables(engine: Engine) -> None:
    """Descriptors reference `facts.metrics` entries (not copies), and select by labels the
    series really carry."""
    d = descriptor(engine)
    for metric in _metrics_of(d):
        assert METRICS[metric.name] is metric
    if d.metrics is not None:
        label = d.metrics.served_name_label
        if label is not None:
            assert label in d.metrics.queue_depth.labels
        for legend, counter in d.metrics.throughput:
            assert counter.type == "counter", legend
        for timing in (d.metrics.latency, d.metrics.queue_time):
            assert timing.quantile == (timing.metric.type == "histogram")


def _render(profile: str) -> tuple[Profile, list[dict[str, Any]]]:
    vp = validate_file(REPO / "profiles" / f"{profile}.yaml")
    return vp.profile, [o.obj for o in render_full(RenderContext(vp.profile)).objects]


def _find(objects: list[dict[str, Any]], kinds: set[str], name: str,
          namespace: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] in kinds and o["metadata"]["name"] == name
            and o["metadata"].get("namespace") == namespace]


@pytest.mark.parametrize("profile", EXAMPLES)
def test_descriptors_agree_with_the_rendered_objects(profile: str) -> None:
    spec_profile, objects = _render(profile)
    seen: set[str] = set()
    for model in spec_profile.spec.models:
        d = descriptor(model.engine)
        seen.add(model.engine)
        ns = model.namespace
        if d.health is not None:
            (workload,) = _find(objects, {"Deployment", "StatefulSet"}, model.name, ns)
            (server,) = [c for c in workload["spec"]["template"]["spec"]["containers"]
                         if c["name"] == d.server_container]
            assert [(p["name"], p["containerPort"]) for p in server["ports"]] == \
                [(p.name, p.number) for p in d.container_ports]
            assert server["readinessProbe"]["httpGet"]["path"] == d.health.ready
            assert server["livenessProbe"]["httpGet"]["path"] == d.health.live
            (service,) = _find(objects, {"Service"}, model.name + d.service_suffix, ns)
            ports = {p["name"]: p["port"] for p in service["spec"]["ports"]}
            assert ports[d.api_ports[0].name] == d.service_port
        else:
            (isvc,) = _find(objects, {"InferenceService"}, model.name, ns)
            assert "model" in isvc["spec"]["predictor"]
        monitors = _find(objects, {"ServiceMonitor", "PodMonitor"}, model.name, ns)
        # KServe: the runtime's metrics port, scraped where aiplat-gen declares it.
        metrics_port = runtime_of(model).metrics_port or d.metrics_port
        scraped = spec_profile.spec.observability is not None and (
            not d.kserve_settings or metrics_port in declared_ports(model, runtime_of(model)))
        if not scraped:
            assert not monitors
        else:
            (monitor,) = monitors
            key = "endpoints" if monitor["kind"] == "ServiceMonitor" else "podMetricsEndpoints"
            (endpoint,) = monitor["spec"][key]
            assert (endpoint["port"], endpoint["path"]) == (metrics_port.name, d.metrics_path)
        (policy,) = _find(objects, {"NetworkPolicy"}, f"workload-{model.name}", ns)
        ingress = {p["port"] for rule in policy["spec"].get("ingress", [])
                   for p in rule.get("ports", [])}
        assert not scraped or metrics_port.number in ingress
        for backend in _backends(objects, model.name, ns):
            assert backend == (model.name + d.service_suffix, d.service_port)
    if profile == "prod":
        assert seen == set(ENGINES), "prod should exercise every engine"


def _backends(objects: list[dict[str, Any]], model: str, namespace: str
              ) -> list[tuple[str, int]]:
    """(Service, port) of the HTTPRoute backends that lead to a model."""
    found = []
    for route in _find(objects, {"HTTPRoute"}, model, namespace):
        for rule in route["spec"]["rules"]:
            found += [(b["name"], b["port"]) for b in rule.get("backendRefs", [])]
    return found


# --- a fourth engine ---------------------------------------------------------------------------

def _mypy(root: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "mypy"), "--cache-dir", str(cache), "src"], cwd=root,
                          capture_output=True, text=True, timeout=600, check=False)


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, (path, old)
    path.write_text(text.replace(old, new))


def test_a_fourth_engine_fails_type_checking_until_it_is_handled(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(REPO / "src", root / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    pkg = root / "src" / "aiplat_gen"
    _replace(pkg / "profile" / "schema" / "serving.py", '"vllm", "triton", "kserve"]',
             '"vllm", "triton", "kserve", "sglang"]')

    unhandled = _mypy(root, tmp_path / "cache")
    assert unhandled.returncode != 0
    # Exactly the dispatch sites fail, at their `assert_never`: nothing takes another engine's
    # branch silently.
    errors = re.findall(r"^(src/\S+?\.py):\d+: error: (.*)$", unhandled.stdout, re.MULTILINE)
    assert {path for path, _ in errors} == {"src/aiplat_gen/platform/engines/__init__.py",
                                            "src/aiplat_gen/render/components/registry.py"}, \
        unhandled.stdout
    assert all("assert_never" in message for _, message in errors), unhandled.stdout

    engines = pkg / "platform" / "engines"
    sglang = (engines / "vllm.py").read_text().replace("VLLM", "SGLANG")
    (engines / "sglang.py").write_text(sglang.replace('name="vllm"', 'name="sglang"'))
    _replace(engines / "__init__.py", "from aiplat_gen.platform.engines.kserve import KSERVE\n",
             "from aiplat_gen.platform.engines.kserve import KSERVE\n"
             "from aiplat_gen.platform.engines.sglang import SGLANG\n")
    _replace(engines / "__init__.py", "            return KSERVE\n",
             '            return KSERVE\n        case "sglang":\n            return SGLANG\n')
    _replace(pkg / "render" / "components" / "registry.py", "            return kserve.render\n",
             '            return kserve.render\n        case "sglang":\n'
             "            return vllm.render\n")

    handled = _mypy(root, tmp_path / "cache")
    assert handled.returncode == 0, handled.stdout + handled.stderr
