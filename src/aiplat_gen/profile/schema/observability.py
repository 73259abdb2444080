"""Profile models of observability: the Prometheus that scrapes the platform (and that KEDA
queries), the alert thresholds, the Grafana dashboard, and optional tracing of vLLM."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from aiplat_gen.profile.schema.secrets import SecretRef
from aiplat_gen.profile.schema.types import DnsLabel, Duration, LabelKey, LabelValue, Strict

HTTP_URL_PATTERN = r"^https?://[^\s/?#]+(/[^\s]*)?$"
KUBE_PROMETHEUS_STACK = {"release": "kube-prometheus-stack"}


class PrometheusAuth(Strict):
    """How KEDA authenticates to Prometheus (a `TriggerAuthentication` in every namespace that
    holds a KEDA-scaled model; the Secret must exist in each of them)."""

    mode: Literal["bearer", "basic"] = Field(examples=["bearer"])
    """`bearer` (the Secret key holds the token) or `basic` (a reference with `username`: a
    kubernetes.io/basic-auth Secret)."""
    secret: SecretRef
    """The Secret, by name and key, in each namespace of a KEDA-scaled model."""


class Prometheus(Strict):
    """The Prometheus (operator) that scrapes the platform."""

    address: str | None = Field(default=None, pattern=HTTP_URL_PATTERN,
                                examples=["http://kube-prometheus-stack-prometheus.monitoring"
                                          ".svc:9090"])
    """Query address KEDA and prometheus-adapter use (required once a model autoscales)."""
    auth: PrometheusAuth | None = None
    """Credentials for queries, if Prometheus needs them."""
    monitor_labels: dict[LabelKey, LabelValue] = Field(
        default_factory=lambda: dict(KUBE_PROMETHEUS_STACK))
    """Labels on ServiceMonitors and PodMonitors (and the GPU Operator's DCGM ServiceMonitor):
    what the Prometheus `serviceMonitorSelector`/`podMonitorSelector` selects. The default is
    what kube-prometheus-stack selects when installed as release `kube-prometheus-stack`."""
    rule_labels: dict[LabelKey, LabelValue] = Field(
        default_factory=lambda: dict(KUBE_PROMETHEUS_STACK))
    """Labels on PrometheusRules: what the Prometheus `ruleSelector` selects."""
    scrape_with: Literal["ServiceMonitor", "PodMonitor"] = "ServiceMonitor"
    """Scrape the model servers through their Service (ServiceMonitor) or directly (PodMonitor)."""
    scrape_interval: Duration = "15s"
    """Scrape interval of the model servers."""


class AlertThresholds(Strict):
    """When the platform's alerts fire (per model)."""

    gpu_utilization_low: float = Field(default=20, examples=[20])
    """Average GPU utilisation (percent) under which GPUs are paid for and idle, for 1 h."""
    gpu_utilization_high: float = Field(default=95, examples=[95])
    """Average GPU utilisation (percent) over which the model runs out of capacity, for 30 min."""
    latency_p95_seconds: float = Field(default=30, examples=[20])
    """p95 end-to-end request latency (vLLM; mean latency for Triton), for 10 min."""
    error_ratio: float = Field(default=0.05, examples=[0.02])
    """Share of failed requests (HTTP 5xx for vLLM, failed inferences for Triton), for 10 min."""
    queue_depth: float = Field(default=20, examples=[20])
    """Requests waiting, summed over the model's replicas, for 15 min."""
    kv_cache_usage: float = Field(default=0.95, examples=[0.9])
    """KV-cache use (0-1) of the fullest replica, for 10 min (vLLM)."""
    restarts_per_hour: int = Field(default=3, ge=1, examples=[3])
    """Container restarts of one pod within an hour."""
    at_max_replicas_for: Duration = "30m"
    """How long an autoscaled model may sit at its `maxReplicas` before an alert."""


class Grafana(Strict):
    """The platform dashboard: a ConfigMap the Grafana dashboard sidecar loads."""

    enabled: bool = True
    """Render the dashboard ConfigMap."""
    sidecar_label: LabelKey = "grafana_dashboard"
    """Label the sidecar watches (kube-prometheus-stack: `grafana_dashboard`)."""
    sidecar_label_value: LabelValue = "1"
    """Its value (kube-prometheus-stack: `"1"`)."""


class Tracing(Strict):
    """OpenTelemetry traces of the vLLM servers (`--otlp-traces-endpoint`), e.g. to an
    OpenTelemetry Collector that forwards them to Langfuse."""

    otlp_endpoint: str = Field(pattern=HTTP_URL_PATTERN,
                               examples=["http://otel-collector.observability.svc:4317"])
    """OTLP endpoint of the collector."""
    protocol: Literal["grpc", "http/protobuf"] = "grpc"
    """OTLP transport (`OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`); vLLM defaults to gRPC."""


class Observability(Strict):
    """Monitors, alerts and the dashboard of the platform's models."""

    namespace: DnsLabel = "monitoring"
    """Namespace of the PrometheusRule and the dashboard ConfigMap (where Prometheus and Grafana
    run)."""
    prometheus: Prometheus = Prometheus()
    """The Prometheus that scrapes the platform and answers KEDA's queries."""
    runbook_base_url: str = Field(pattern=HTTP_URL_PATTERN,
                                  examples=["https://github.com/acme/ai-platform/blob/main/"
                                            "runbooks"])
    """Where your runbooks live: each alert links `<runbookBaseUrl>/<alert-name>.md`."""
    alerts: AlertThresholds = AlertThresholds()
    """Alert thresholds."""
    grafana: Grafana = Grafana()
    """The Grafana dashboard."""
    tracing: Tracing | None = None
    """OpenTelemetry tracing of vLLM (off when omitted)."""
