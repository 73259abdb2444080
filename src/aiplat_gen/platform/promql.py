"""PromQL query builders: every expression aiplat-gen writes comes from here.

Queries select a model's series by the labels its exporter really attaches (see
`data.metrics`): vLLM series by `namespace` and `model_name` (the served name), Triton and vLLM
HTTP series by `namespace` and `ai_platform_model` (copied from the pod label by the monitors'
`podTargetLabels`), DCGM series by the workload labels the GPU Operator's ServiceMonitor produces
(`exported_namespace`/`exported_pod` unless `honorLabels: true`) and a regular expression that
matches exactly the model's pod names, kube-state-metrics series by `namespace` and `pod`.

Queries that feed an autoscaler aggregate with `sum(...)`: KEDA reads an empty result as 0, and
the HPA divides the sum by its per-replica target.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiplat_gen.platform.facts.metrics import MODEL_TARGET_LABEL, dcgm_workload_labels

Matcher = tuple[str, str, str]
"""(label, operator, value), e.g. ("namespace", "=", "llm")."""

RATE_WINDOW = "5m"


@dataclass(frozen=True)
class ModelSeries:
    """What selects one model's series."""

    name: str
    """The model (and workload) name: the `ai.platform/model` label."""
    engine: str
    """`vllm` or `triton`."""
    namespace: str
    served_name: str
    """vLLM's `model_name` label."""
    stateful: bool
    """StatefulSet pods are `<name>-<ordinal>`; Deployment pods `<name>-<hash>-<suffix>`."""
    gpus: int
    """GPUs per replica."""
    dcgm_honor_labels: bool
    """`honorLabels` of the DCGM exporter's ServiceMonitor."""

    @property
    def pod_regex(self) -> str:
        """A regular expression matching exactly this model's pod names (PromQL anchors it)."""
        if self.stateful:
            return f"{self.name}-[0-9]+"
        return f"{self.name}-[a-z0-9]+-[a-z0-9]+"

    def server(self) -> list[Matcher]:
        """Matchers of the model server's own series."""
        if self.engine == "vllm":
            return [("namespace", "=", self.namespace), ("model_name", "=", self.served_name)]
        return self.target()

    def target(self) -> list[Matcher]:
        """Matchers of every series scraped from the model's pods (by the target label)."""
        return [("namespace", "=", self.namespace), (MODEL_TARGET_LABEL, "=", self.name)]

    def pods(self) -> list[Matcher]:
        """kube-state-metrics matchers of the model's pods."""
        return [("namespace", "=", self.namespace), ("pod", "=~", self.pod_regex)]

    def gpus_of(self) -> list[Matcher]:
        """DCGM matchers of the GPUs the model's pods hold."""
        ns, pod = dcgm_workload_labels(self.dcgm_honor_labels)
        return [(ns, "=", self.namespace), (pod, "=~", self.pod_regex)]


def quote(value: str) -> str:
    """A PromQL string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def selector(metric: str, matchers: list[Matcher]) -> str:
    """`metric{label="value",...}`."""
    inner = ",".join(f"{label}{op}{quote(value)}" for label, op, value in matchers)
    return f"{metric}{{{inner}}}"


def number(value: float) -> str:
    """A float as PromQL writes it: no trailing `.0`."""
    return f"{value:g}"


def _rate(metric: str, matchers: list[Matcher], window: str = RATE_WINDOW) -> str:
    return f"sum(rate({selector(metric, matchers)}[{window}]))"


# --- autoscaling signals (sums: the autoscaler divides by the per-replica target) ------------

def queue_depth(m: ModelSeries) -> str:
    """Requests waiting for the model, summed over its replicas."""
    metric = ("vllm:num_requests_waiting" if m.engine == "vllm"
              else "nv_inference_pending_request_count")
    return f"sum({selector(metric, m.server())})"


def kv_cache_sum(m: ModelSeries) -> str:
    """KV-cache use (0-1) summed over replicas: divided by a per-replica target it gives the
    replicas needed."""
    return f"sum({selector('vllm:kv_cache_usage_perc', m.server())})"


def gpu_utilization_per_replica_sum(m: ModelSeries) -> str:
    """GPU utilisation (%) summed over the model's GPUs, divided by GPUs per replica: the sum
    over replicas of each replica's average."""
    total = f"sum({selector('DCGM_FI_DEV_GPU_UTIL', m.gpus_of())})"
    return total if m.gpus == 1 else f"{total} / {m.gpus}"


# --- what alerts and dashboards show ------------------------------------------------------------

def request_rate(m: ModelSeries) -> str:
    """Completed requests per second."""
    if m.engine == "vllm":
        return _rate("vllm:request_success_total", m.server())
    return _rate("nv_inference_request_success", m.server())


def running(m: ModelSeries) -> str:
    """Requests being processed (vLLM)."""
    return f"sum({selector('vllm:num_requests_running', m.server())})"


def latency_p95(m: ModelSeries) -> str:
    """p95 end-to-end latency in seconds (vLLM histogram); Triton exports counters only, so its
    mean latency."""
    if m.engine == "vllm":
        bucket = selector("vllm:e2e_request_latency_seconds_bucket", m.server())
        return f"histogram_quantile(0.95, sum by (le) (rate({bucket}[{RATE_WINDOW}])))"
    return (f"{_rate('nv_inference_request_duration_us', m.server())} / "
            f"{_rate('nv_inference_request_success', m.server())} / 1e6")


def ttft_p95(m: ModelSeries) -> str:
    """p95 time to first token in seconds (vLLM)."""
    bucket = selector("vllm:time_to_first_token_seconds_bucket", m.server())
    return f"histogram_quantile(0.95, sum by (le) (rate({bucket}[{RATE_WINDOW}])))"


def queue_time(m: ModelSeries) -> str:
    """Time requests wait before they run: p95 for vLLM (histogram), mean for Triton (seconds)."""
    if m.engine == "vllm":
        bucket = selector("vllm:request_queue_time_seconds_bucket", m.server())
        return f"histogram_quantile(0.95, sum by (le) (rate({bucket}[{RATE_WINDOW}])))"
    return (f"{_rate('nv_inference_queue_duration_us', m.server())} / "
            f"{_rate('nv_inference_request_success', m.server())} / 1e6")


def throughput(m: ModelSeries) -> list[tuple[str, str]]:
    """(legend, query) of the work done per second: tokens for vLLM, inferences for Triton."""
    if m.engine == "vllm":
        return [("prompt tokens", _rate("vllm:prompt_tokens_total", m.server())),
                ("generated tokens", _rate("vllm:generation_tokens_total", m.server()))]
    return [("inferences", _rate("nv_inference_count", m.server()))]


def error_ratio(m: ModelSeries) -> str:
    """Share of failed requests: HTTP 5xx answers of vLLM's API server, failed Triton
    inferences."""
    if m.engine == "vllm":
        errors = _rate("http_requests_total", [*m.target(), ("status", "=", "5xx")])
        return f"{errors} / {_rate('http_requests_total', m.target())}"
    failed = _rate("nv_inference_request_failure", m.server())
    ok = _rate("nv_inference_request_success", m.server())
    return f"{failed} / ({ok} + {failed})"


def kv_cache_max(m: ModelSeries) -> str:
    """KV-cache use of the fullest replica (0-1)."""
    return f"max({selector('vllm:kv_cache_usage_perc', m.server())})"


def gpu_utilization_avg(m: ModelSeries) -> str:
    """Average utilisation (%) of the model's GPUs."""
    return f"avg({selector('DCGM_FI_DEV_GPU_UTIL', m.gpus_of())})"


def gpu_memory_used(m: ModelSeries) -> str:
    """Frame buffer used by the model's GPUs (MiB)."""
    return f"sum({selector('DCGM_FI_DEV_FB_USED', m.gpus_of())})"


def restarts(m: ModelSeries, window: str = "1h") -> str:
    """Container restarts per pod within the window."""
    return f"increase({selector('kube_pod_container_status_restarts_total', m.pods())}[{window}])"


def oom_killed(m: ModelSeries) -> str:
    """Containers whose last termination was an OOM kill and that restarted recently."""
    reason = selector("kube_pod_container_status_last_terminated_reason",
                      [*m.pods(), ("reason", "=", "OOMKilled")])
    return (f"({reason} == 1) and on (namespace, pod, container) "
            f"({restarts(m, '30m')} > 0)")


def at_max_replicas(namespace: str, hpa: str) -> str:
    """The HPA (KEDA's `keda-hpa-<name>` or a plain one) runs its maximum replicas."""
    matchers: list[Matcher] = [("namespace", "=", namespace),
                               ("horizontalpodautoscaler", "=", hpa)]
    current = selector("kube_horizontalpodautoscaler_status_current_replicas", matchers)
    maximum = selector("kube_horizontalpodautoscaler_spec_max_replicas", matchers)
    return f"{current} >= on (namespace, horizontalpodautoscaler) {maximum}"


# --- prometheus-adapter (HPA engine) -----------------------------------------------------------

ADAPTER_SUM = "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)"
ADAPTER_AVG = "avg(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)"


def adapter_query(template: str, namespace_label: str, pod_label: str, namespace: str,
                  pod_regex: str) -> str:
    """The query prometheus-adapter runs for a rule's `metricsQuery` when the HPA asks for the
    pods of one workload (for tests: it must parse and name real labels)."""
    matchers = f'{namespace_label}="{namespace}",{pod_label}=~"{pod_regex}"'
    return template.replace("<<.LabelMatchers>>", matchers).replace("<<.GroupBy>>", pod_label)


def adapter_series(template: str, series: str) -> str:
    """Fill a rule's `<<.Series>>`."""
    return template.replace("<<.Series>>", series)


def threshold(expr: str, op: str, value: float) -> str:
    """`expr op value` for an alert."""
    return f"{expr} {op} {number(value)}"
