"""The platform's Grafana dashboard, generated from the profile: one row per scraped model (vLLM,
Triton, KServe in `Standard` mode, each from the series of its engine or KServe runtime) with its
requests per second, throughput (tokens for vLLM backends, inferences for Triton), error share,
latency (p95 end-to-end, time to first token and queue time for vLLM backends; means for
Triton), queue (waiting and running requests), KV-cache use (vLLM backends) and GPU utilisation
and memory (DCGM; not on MIG slices). Panels query the `datasource` variable (any Prometheus data
source), so the dashboard works unchanged in every environment.

It is shipped as a ConfigMap carrying the Grafana sidecar's label
(`spec.observability.grafana.sidecarLabel`, kube-prometheus-stack: `grafana_dashboard: "1"`)
in `spec.observability.namespace`; the JSON is written with sorted keys, so renders are
byte-identical.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
from typing import Any

import orjson

from aiplat_gen.platform import promql
from aiplat_gen.platform.engines import Timing
from aiplat_gen.platform.telemetry import dcgm_scraped, on_mig, series_for
from aiplat_gen.profile.schema.profile import Profile
from aiplat_gen.profile.schema.serving import Model

SCHEMA_VERSION = 39
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
PANEL_WIDTH = 6
PANEL_HEIGHT = 8


def _panel(panel_id: int, title: str, unit: str, x: int, y: int,
           targets: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "id": panel_id,
        "type": "timeseries",
        "title": title,
        "datasource": DATASOURCE,
        "gridPos": {"h": PANEL_HEIGHT, "w": PANEL_WIDTH, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [{"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend,
                     "datasource": DATASOURCE} for i, (legend, expr) in enumerate(targets)],
    }


def model_panels(profile: Profile, model: Model) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(title, unit, [(legend, query)]) of one model's panels."""
    m = series_for(profile, model)
    exported = m.metrics
    latency = [(f"{_kind(exported.latency)} end-to-end", promql.latency_p95(m))]
    if exported.time_to_first_token is not None:
        latency.append((f"{_kind(exported.time_to_first_token)} time to first token",
                        promql.ttft_p95(m)))
    latency.append((f"{_kind(exported.queue_time)} queue time", promql.queue_time(m)))
    queue = [(exported.queue_word, promql.queue_depth(m))]
    if exported.running is not None:
        queue.append(("running", promql.running(m)))
    panels = [("Requests", "reqps", [("completed", promql.request_rate(m))]),
              ("Throughput", "ops", promql.throughput(m)),
              ("Errors", "percentunit", [("failed share", promql.error_ratio(m))]),
              ("Latency", "s", latency),
              ("Queue", "short", queue)]
    if exported.kv_cache_usage is not None:
        panels.append(("KV cache", "percentunit", [("fullest replica", promql.kv_cache_max(m))]))
    if dcgm_scraped(profile) and not on_mig(profile, model):
        panels.append(("GPU utilisation", "percent", [("average", promql.gpu_utilization_avg(m))]))
        panels.append(("GPU memory", "decmbytes", [("used", promql.gpu_memory_used(m))]))
    return panels


def _kind(timing: Timing) -> str:
    return "p95" if timing.quantile else "mean"


def dashboard(profile: Profile, models: list[Model]) -> dict[str, Any]:
    """The dashboard model (Grafana JSON)."""
    platform = profile.spec.platform.name
    panels: list[dict[str, Any]] = []
    y = 0
    next_id = 1
    for model in models:
        panels.append({"id": next_id, "type": "row", "collapsed": False,
                       "title": f"{model.name} ({model.engine}, {model.namespace})",
                       "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []})
        next_id += 1
        y += 1
        for i, (title, unit, targets) in enumerate(model_panels(profile, model)):
            x = (i % 4) * PANEL_WIDTH
            if i and i % 4 == 0:
                y += PANEL_HEIGHT
            panels.append(_panel(next_id, title, unit, x, y, targets))
            next_id += 1
        y += PANEL_HEIGHT
    return {
        "uid": f"aiplat-{platform}"[:40],
        "title": f"{platform}: models",
        "tags": ["aiplat-gen", platform],
        "timezone": "browser",
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "editable": False,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": [{"name": "datasource", "label": "Data source",
                                 "type": "datasource", "query": "prometheus",
                                 "current": {}, "hide": 0}]},
        "annotations": {"list": []},
        "panels": panels,
    }


def dashboard_json(profile: Profile, models: list[Model]) -> str:
    """The dashboard as the JSON text the ConfigMap carries."""
    return _indented(json.dumps(dashboard(profile, models), sort_keys=True))


# What orjson may write differently from `json.dumps(..., indent=2, sort_keys=True)`: non-ASCII
# text and DEL (json escapes them), an escape, a float in exponent form (`1e-05` in json, `1e-5`
# in orjson), NaN or Infinity (json's spelling; orjson writes null), an integer beyond 64 bits
# (orjson refuses it). When json's compact text or orjson's shows one of these (rare in a
# dashboard), json indents, so the bytes are json's either way.
# The numbers are matched as JSON tokens (after `[`, `:`, `,` or a space, before `,`, `}`, `]`
# or a space), so `/ 1e6)` in a PromQL query does not count (a false match would only cost the
# fast path, never change a byte).
_NOT_PLAIN = re.compile(r"[^\x00-\x7e]|\\u"
                        r"|(?<![^\[:,\s])-?(?:[0-9.]+[eE][-+]?[0-9]+|NaN|Infinity)(?![^,}\]\s])")


@functools.lru_cache(maxsize=8)
def _indented(compact: str) -> str:
    """Indented JSON, made once per dashboard (the environments of a render usually share
    theirs, which the compact text identifies). orjson (3.13, C) indents a 200-model dashboard
    in milliseconds where Python's json, which indents only in its pure-Python encoder, takes a
    tenth of a second; it is used where its bytes are json's (`_NOT_PLAIN`)."""
    board = json.loads(compact)
    if not _NOT_PLAIN.search(compact):
        with contextlib.suppress(orjson.JSONEncodeError):
            text = orjson.dumps(board, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
            if not _NOT_PLAIN.search(text):
                return text + "\n"
    return json.dumps(board, indent=2, sort_keys=True) + "\n"


def queries(board: dict[str, Any]) -> list[str]:
    """Every query of a dashboard's panels."""
    return [t["expr"] for panel in board["panels"] for t in panel.get("targets", [])]
