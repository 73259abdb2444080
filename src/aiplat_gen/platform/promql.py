"""PromQL query builders: every expression aiplat-gen writes comes from here.

Queries select a model's series by the labels its exporter really attaches (see
`facts.metrics`): vLLM series by `namespace` and `model_name` (the served name), Triton, vLLM
HTTP and KServe runtime series by `namespace` and `ai_platform_model` (copied from the pod
label by the monitors' `podTargetLabels`), DCGM series by the workload labels the GPU
Operator's ServiceMonitor produces (`exported_namespace`/`exported_pod` unless `honorLabels:
true`) and a regular expression that matches exactly the pod names of the model's workload
(KServe: its `<name>-predictor` Deployment), kube-state-metrics series by `namespace` and `pod`.

Queries that feed an autoscaler aggregate with `sum(...)`: KEDA reads an empty result as 0, and
the HPA divides the sum by its per-replica target.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiplat_gen.platform.engines import EngineMetrics, Timing
from aiplat_gen.platform.engines.base import Matcher
from aiplat_gen.platform.facts.metrics import MODEL_TARGET_LABEL, Metric, dcgm_workload_labels
from aiplat_gen.profile.schema.serving import Engine

RATE_WINDOW = "5m"


@dataclass(frozen=True)
class ModelSeries:
    """What selects one model's series."""

    name: str
    """The model (and workload) name: the `ai.platform/model` label."""
    engine: Engine
    """The model's engine (for messages)."""
    namespace: str
    served_name: str
    """vLLM's `model_name` label."""
    stateful: bool
    """StatefulSet pods are `<name>-<ordinal>`; Deployment pods `<name>-<hash>-<suffix>`."""
    gpus: int
    """GPUs per replica."""
    dcgm_honor_labels: bool
    """`honorLabels` of the DCGM exporter's ServiceMonitor."""
    exported: EngineMetrics | None
    """The series the model's server exports (`engines.metrics_of`)."""
    workload: str
    """The Deployment or StatefulSet whose pods serve the model (KServe: `<name>-predictor`)."""

    @property
    def pod_regex(self) -> str:
        """A regular expression matching exactly this model's pod names (PromQL anchors it)."""
        if self.stateful:
            return f"{self.workload}-[0-9]+"
        return f"{self.workload}-[a-z0-9]+-[a-z0-9]+"

    @property
    def metrics(self) -> EngineMetrics:
        """The series the model's server exports."""
        if self.exported is None:
            raise ValueError(f"aiplat-gen knows no series of {self.name!r} ({self.engine})")
        return self.exported

    def server(self) -> list[Matcher]:
        """Matchers of the model server's own series: by the served model name where the
        engine labels its series with it, else by the pods' target label."""
        label = self.metrics.served_name_label
        if label is not None:
            return [("namespace", "=", self.namespace), (label, "=", self.served_name)]
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


def _needed(metric: Metric | None, m: ModelSeries, what: str) -> Metric:
    if metric is None:
        raise ValueError(f"{m.engine} exports no {what} metric")
    return metric


def _timing(m: ModelSeries, timing: Timing) -> str:
    """p95 of a histogram (seconds), or the mean per completed request of a duration counter."""
    if timing.quantile:
        bucket = selector(f"{timing.metric.name}_bucket", m.server())
        return f"histogram_quantile(0.95, sum by (le) (rate({bucket}[{RATE_WINDOW}])))"
    return (f"{_rate(timing.metric.name, m.server())} / "
            f"{_rate(m.metrics.requests.name, m.server())} / {timing.units_per_second}")


# --- autoscaling signals (sums: the autoscaler divides by the per-replica target) ------------

def queue_depth(m: ModelSeries) -> str:
    """Requests waiting for the model, summed over its replicas."""
    return f"sum({selector(m.metrics.queue_depth.name, m.server())})"


def kv_cache_sum(m: ModelSeries) -> str:
    """KV-cache use (0-1) summed over replicas: divided by a per-replica target it gives the
    replicas needed."""
    metric = _needed(m.metrics.kv_cache_usage, m, "KV-cache")
    return f"sum({selector(metric.name, m.server())})"


def gpu_utilization_per_replica_sum(m: ModelSeries) -> str:
    """GPU utilisation (%) summed over the model's GPUs, divided by GPUs per replica: the sum
    over replicas of each replica's average."""
    total = f"sum({selector('DCGM_FI_DEV_GPU_UTIL', m.gpus_of())})"
    return total if m.gpus == 1 else f"{total} / {m.gpus}"


# --- what alerts and dashboards show ------------------------------------------------------------

def request_rate(m: ModelSeries) -> str:
    """Completed requests per second."""
    return _rate(m.metrics.requests.name, m.server())


def running(m: ModelSeries) -> str:
    """Requests being processed (vLLM)."""
    metric = _needed(m.metrics.running, m, "running-requests")
    return f"sum({selector(metric.name, m.server())})"


def latency_p95(m: ModelSeries) -> str:
    """p95 end-to-end latency in seconds (vLLM histogram); Triton exports counters only, so its
    mean latency."""
    return _timing(m, m.metrics.latency)


def ttft_p95(m: ModelSeries) -> str:
    """p95 time to first token in seconds (vLLM)."""
    timing = m.metrics.time_to_first_token
    if timing is None:
        raise ValueError(f"{m.engine} exports no time-to-first-token metric")
    return _timing(m, timing)


def queue_time(m: ModelSeries) -> str:
    """Time requests wait before they run: p95 for vLLM (histogram), mean for Triton (seconds)."""
    return _timing(m, m.metrics.queue_time)


def throughput(m: ModelSeries) -> list[tuple[str, str]]:
    """(legend, query) of the work done per second: tokens for vLLM, inferences for Triton."""
    return [(legend, _rate(metric.name, m.server())) for legend, metric in m.metrics.throughput]


def error_ratio(m: ModelSeries) -> str:
    """Share of failed requests: HTTP 5xx answers of vLLM's API server, failed Triton
    inferences."""
    signal = m.metrics.errors
    matchers = m.target() if signal.by_target else m.server()
    failed = _rate(signal.failed.name, [*matchers, *signal.failed_matchers])
    if signal.total is not None:
        return f"{failed} / {_rate(signal.total.name, matchers)}"
    ok = _rate(m.metrics.requests.name, matchers)
    return f"{failed} / ({ok} + {failed})"


def kv_cache_max(m: ModelSeries) -> str:
    """KV-cache use of the fullest replica (0-1)."""
    metric = _needed(m.metrics.kv_cache_usage, m, "KV-cache")
    return f"max({selector(metric.name, m.server())})"


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
