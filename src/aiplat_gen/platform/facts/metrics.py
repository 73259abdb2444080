"""The metrics aiplat-gen queries, with the labels each series carries in Prometheus and where
each name comes from. Every PromQL expression the tool writes (KEDA triggers, prometheus-adapter
rules, alerts, dashboard panels) may name only these metrics and labels; the tests parse every
expression and hold it to this table, because a query on a name or label that does not exist
returns nothing, and KEDA reads nothing as 0: the model silently never scales.

A series carries the exporter's own labels plus the labels Prometheus adds for the scrape
target (`SCRAPE_LABELS`). Sources (checked 2026-11):

- vLLM (v0.11, V1 engine): `vllm/v1/metrics/loggers.py`, class `PrometheusStatLogger`, labels
  `["model_name", "engine"]` where `model_name` is the served model name; counters gain the
  `_total` suffix from prometheus_client. Every `vllm:` family below has the same name, type and
  labels in vLLM 0.24.0, the vLLM of KServe's Hugging Face runtime (same file, PyPI sdist
  vllm-0.24.0; `vllm:request_success_total{finished_reason}` counts `stop`, `length`, `abort`,
  `error`, `repetition`: `vllm/v1/engine/__init__.py` `FINISH_REASON_STRINGS`, where `error` is
  a request-level engine failure, always answered 500). vLLM's HTTP metrics come from
  prometheus-fastapi-instrumentator (`mount_metrics` in `vllm/entrypoints/openai/api_server.py`):
  `http_requests_total{handler, method, status}` with status grouped as `2xx`..`5xx` (the
  instrumentator's defaults, PyPI project page).
- Triton: "Metrics" in the Triton user guide (docs/user_guide/metrics.md): per-model counters and
  the pending-request gauge with labels `model`, `version`; failures also carry `reason`.
- KServe's Hugging Face runtime (kserve/kserve v0.20.0, image `kserve/huggingfaceserver:v0.20.0`:
  charts/kserve-runtime-configs tags it with the KServe version): its `/metrics`
  (`python/kserve/kserve/protocol/rest/server.py` `metrics_handler`) encodes prometheus_client's
  default `REGISTRY`. With the vLLM backend (`huggingfaceserver/__main__.py`
  `is_vllm_backend_enabled`: `--backend` `auto` or `vllm` and a vLLM architecture) it runs
  vLLM 0.24.0 in-process (`python/kserve/pyproject.toml` extra `llm`: `vllm==0.24.0`;
  `huggingfaceserver/vllm/utils.py` builds an `AsyncLLM` with `disable_log_stats` from the
  arguments, default False), whose `StatLoggerManager` always adds a `PrometheusStatLogger`
  registering in that same registry (`vllm/v1/metrics/prometheus.py`
  `get_prometheus_registry`: the default `REGISTRY` unless `PROMETHEUS_MULTIPROC_DIR` is set,
  which neither the runtime nor its image sets). So the `vllm:` series are served on the
  runtime's HTTP port 8080 at `/metrics`, with `model_name` = vLLM's served name: the
  `--served-model-name` flag if given, else the model path (`vllm/config/model.py`
  `get_served_model_name`; the runtime passes `--model_dir`, `/mnt/models`), not KServe's
  `--model_name`. The runtime has no HTTP status counter: it does not mount vLLM's
  prometheus-fastapi-instrumentator, and KServe's own histograms
  (`python/kserve/kserve/metrics.py`: `request_preprocess_seconds`, `request_predict_seconds`,
  `request_postprocess_seconds`, `request_explain_seconds`, label `model_name`) are observed
  only on the v1/v2 predict path (`kserve/model.py` `Model.__call__`), never on the
  `/openai/v1` endpoints an LLM is called on, so aiplat-gen queries none of them.
- DCGM exporter: `etc/default-counters.csv` (`DCGM_FI_DEV_GPU_UTIL` in %, `DCGM_FI_DEV_FB_USED`
  in MiB) and its metric template (`gpu`, `UUID`, `pci_bus_id`, `device`, `modelName`,
  `Hostname`, `GPU_I_PROFILE`/`GPU_I_ID` on MIG); the workload's `namespace`/`pod`/`container`
  come from the kubelet pod-resources API. Scraped by the GPU Operator's ServiceMonitor with
  `honorLabels: false` they clash with the target's own labels and Prometheus renames them
  `exported_namespace`/`exported_pod`/`exported_container`. `DCGM_FI_DEV_GPU_UTIL` is not
  reported for MIG instances (NVIDIA/dcgm-exporter#216).
- kube-state-metrics: docs/metrics/workload/pod-metrics.md and
  horizontalpodautoscaler-metrics.md; kube-prometheus-stack scrapes it with `honor_labels: true`,
  so `namespace`/`pod` are the object's. KEDA names the HPA of a ScaledObject
  `keda-hpa-<scaledobject>` (ScaledObject reference, `horizontalPodAutoscalerConfig.name`).
- Scrape labels: prometheus-operator `pkg/prometheus/promcfg.go` relabels `namespace`,
  `service`, `pod`, `container`, `endpoint`, `job` (the Service name; for a PodMonitor
  `<namespace>/<podmonitor>`); `podTargetLabels` copy a pod label onto the target under its
  sanitized name (`ai.platform/model` -> `ai_platform_model`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MetricType = Literal["gauge", "counter", "histogram"]
Exporter = Literal["vllm", "vllm-http", "triton", "dcgm", "kube-state-metrics"]

MODEL_TARGET_LABEL = "ai_platform_model"
"""The pod label `ai.platform/model`, copied onto every model-server target by podTargetLabels."""
SCRAPE_LABELS = frozenset({"namespace", "service", "pod", "container", "endpoint", "job",
                           "instance", MODEL_TARGET_LABEL})
"""Target labels of a model server scraped through aiplat-gen's ServiceMonitor or PodMonitor."""
TARGET_LABELS = frozenset({"namespace", "service", "pod", "container", "endpoint", "job",
                           "instance"})
"""Target labels of an exporter scraped through its chart's ServiceMonitor."""
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")

VLLM = frozenset({"model_name", "engine"})
TRITON = frozenset({"model", "version"})
DCGM = frozenset({"gpu", "UUID", "pci_bus_id", "device", "modelName", "Hostname",
                  "GPU_I_PROFILE", "GPU_I_ID"})
DCGM_WORKLOAD = ("namespace", "pod", "container")
KSM_CONTAINER = frozenset({"namespace", "pod", "container", "uid"})
KSM_HPA = frozenset({"namespace", "horizontalpodautoscaler"})

KSERVE_VLLM_VERSION = "0.24.0"
"""The vLLM of kserve/huggingfaceserver v0.20.0 (kserve/kserve v0.20.0,
python/kserve/pyproject.toml)."""
VLLM_SOURCE = ("vllm-project/vllm v0.11.0 and v" + KSERVE_VLLM_VERSION + " (KServe's Hugging Face "
               "runtime) vllm/v1/metrics/loggers.py (PrometheusStatLogger)")
VLLM_HTTP_SOURCE = ("vllm/entrypoints/openai/api_server.py mount_metrics + "
                    "prometheus-fastapi-instrumentator default metrics (PyPI)")
TRITON_SOURCE = ("triton-inference-server/server docs/user_guide/metrics.md "
                 "(docs.nvidia.com Triton user guide, Metrics)")
DCGM_SOURCE = "NVIDIA/dcgm-exporter etc/default-counters.csv and its metric template"
KSM_POD_SOURCE = "kubernetes/kube-state-metrics docs/metrics/workload/pod-metrics.md"
KSM_HPA_SOURCE = "kubernetes/kube-state-metrics docs/horizontalpodautoscaler-metrics.md"


@dataclass(frozen=True)
class Metric:
    """One metric family as Prometheus stores it."""

    name: str
    """The exposition name (counters with `_total`; histograms without their suffixes)."""
    exporter: Exporter
    type: MetricType
    labels: frozenset[str]
    """The exporter's own labels (scrape labels come on top)."""
    source: str
    """Where the name and labels are documented or defined."""


def _table(*metrics: Metric) -> dict[str, Metric]:
    return {m.name: m for m in metrics}


METRICS: dict[str, Metric] = _table(
    Metric("vllm:num_requests_waiting", "vllm", "gauge", VLLM, VLLM_SOURCE),
    Metric("vllm:num_requests_running", "vllm", "gauge", VLLM, VLLM_SOURCE),
    Metric("vllm:kv_cache_usage_perc", "vllm", "gauge", VLLM, VLLM_SOURCE),
    Metric("vllm:request_success_total", "vllm", "counter", VLLM | {"finished_reason"},
           VLLM_SOURCE),
    Metric("vllm:prompt_tokens_total", "vllm", "counter", VLLM, VLLM_SOURCE),
    Metric("vllm:generation_tokens_total", "vllm", "counter", VLLM, VLLM_SOURCE),
    Metric("vllm:e2e_request_latency_seconds", "vllm", "histogram", VLLM, VLLM_SOURCE),
    Metric("vllm:time_to_first_token_seconds", "vllm", "histogram", VLLM, VLLM_SOURCE),
    Metric("vllm:request_queue_time_seconds", "vllm", "histogram", VLLM, VLLM_SOURCE),
    Metric("http_requests_total", "vllm-http", "counter",
           frozenset({"handler", "method", "status"}), VLLM_HTTP_SOURCE),
    Metric("nv_inference_request_success", "triton", "counter", TRITON, TRITON_SOURCE),
    Metric("nv_inference_request_failure", "triton", "counter", TRITON | {"reason"},
           TRITON_SOURCE),
    Metric("nv_inference_count", "triton", "counter", TRITON, TRITON_SOURCE),
    Metric("nv_inference_request_duration_us", "triton", "counter", TRITON, TRITON_SOURCE),
    Metric("nv_inference_queue_duration_us", "triton", "counter", TRITON, TRITON_SOURCE),
    Metric("nv_inference_pending_request_count", "triton", "gauge", TRITON, TRITON_SOURCE),
    Metric("DCGM_FI_DEV_GPU_UTIL", "dcgm", "gauge", DCGM, DCGM_SOURCE),
    Metric("DCGM_FI_DEV_FB_USED", "dcgm", "gauge", DCGM, DCGM_SOURCE),
    Metric("kube_pod_container_status_restarts_total", "kube-state-metrics", "counter",
           KSM_CONTAINER, KSM_POD_SOURCE),
    Metric("kube_pod_container_status_last_terminated_reason", "kube-state-metrics", "gauge",
           KSM_CONTAINER | {"reason"}, KSM_POD_SOURCE),
    Metric("kube_horizontalpodautoscaler_status_current_replicas", "kube-state-metrics",
           "gauge", KSM_HPA, KSM_HPA_SOURCE),
    Metric("kube_horizontalpodautoscaler_spec_max_replicas", "kube-state-metrics", "gauge",
           KSM_HPA, KSM_HPA_SOURCE),
)


def dcgm_workload_labels(honor_labels: bool) -> tuple[str, str]:
    """The labels naming the workload's (namespace, pod) on DCGM series: the exporter's own
    names with `honorLabels: true`, `exported_`-prefixed with `honorLabels: false`."""
    prefix = "" if honor_labels else "exported_"
    return f"{prefix}namespace", f"{prefix}pod"


def lookup(series: str) -> tuple[Metric, str | None] | None:
    """The metric a series name belongs to and its histogram suffix, if any (a histogram's
    own name has no series: Prometheus stores only its `_bucket`, `_sum` and `_count`)."""
    if series in METRICS:
        return (METRICS[series], None) if METRICS[series].type != "histogram" else None
    for suffix in HISTOGRAM_SUFFIXES:
        base = series.removesuffix(suffix)
        if base != series and base in METRICS and METRICS[base].type == "histogram":
            return METRICS[base], suffix
    return None


def series_labels(series: str, dcgm_honor_labels: bool) -> frozenset[str]:
    """Every label a stored series of this name can carry (empty for an unknown name)."""
    found = lookup(series)
    if found is None:
        return frozenset()
    metric, suffix = found
    labels = set(metric.labels)
    if suffix == "_bucket":
        labels.add("le")
    if metric.exporter in ("vllm", "vllm-http", "triton"):
        labels |= SCRAPE_LABELS
    elif metric.exporter == "dcgm":
        labels |= TARGET_LABELS
        prefix = "" if dcgm_honor_labels else "exported_"
        labels |= {prefix + name for name in DCGM_WORKLOAD}
    else:
        labels |= TARGET_LABELS
    return frozenset(labels)
