"""Observability of the model servers (`spec.observability`; nothing is rendered without it):

- a ServiceMonitor (or, with `prometheus.scrapeWith: PodMonitor`, a PodMonitor)
  (monitoring.coreos.com/v1) per vLLM and Triton model, in the model's namespace, labelled with
  `prometheus.monitorLabels` (what the Prometheus selects; kube-prometheus-stack:
  `release: kube-prometheus-stack`). It scrapes `/metrics` on the `http` port (vLLM, 8000) or
  the `metrics` port (Triton, 8002) every `prometheus.scrapeInterval`, and copies the pod label
  `ai.platform/model` onto the series as `ai_platform_model` (`podTargetLabels`), which the
  queries select Triton and HTTP series by;
- a PodMonitor per KServe predictor in `Standard` mode, on its runtime's metrics port (also
  copying `ai.platform/model`; a `Knative` predictor is not scraped, so it has no alerts or
  dashboard row: `platform.scraping`);
- a PodMonitor per data store that exports metrics (Redis with `redis.exporter`, Weaviate with
  `weaviate.metrics`, PostgreSQL run by CloudNativePG), on the pods' `metrics` port. Monitors
  and the network policies' Prometheus rules come from one list, `platform.scraping`;
- a PrometheusRule `<platform>-models` in `spec.observability.namespace`, labelled with
  `prometheus.ruleLabels`, with the alerts of `alerts` (see that module for the list), one
  group per scraped model of every engine;
- the Grafana dashboard ConfigMap `<platform>-models-dashboard` (see `dashboards`).

The GPU Operator's DCGM ServiceMonitor gets the same `monitorLabels`, so the Prometheus scrapes
GPU metrics too; its `honorLabels` (`spec.gpuOperator.dcgmHonorLabels`) decides the label
names every GPU query uses. With `tracing`, vLLM servers send OpenTelemetry traces to the
collector (`--otlp-traces-endpoint`; the OpenTelemetry packages ship with current vLLM images).
"""

from __future__ import annotations

from typing import Any

from aiplat_gen.platform.engines import descriptor
from aiplat_gen.platform.pods import MODEL_LABEL
from aiplat_gen.platform.scraping import ScrapeTarget, scrape_targets
from aiplat_gen.platform.telemetry import monitored_models
from aiplat_gen.profile.schema.observability import Observability
from aiplat_gen.profile.schema.profile import Profile
from aiplat_gen.profile.schema.serving import Model
from aiplat_gen.render.components.alerts import rule_groups
from aiplat_gen.render.components.base import RenderContext, Rendered, labels
from aiplat_gen.render.components.dashboards import dashboard_json
from aiplat_gen.render.components.serving_common import (
    ModelContext,
    model_context,
    selector,
)

COMPONENT = "monitoring"
POD_TARGET_LABELS = [MODEL_LABEL]


def render(ctx: RenderContext) -> Rendered:
    """Monitors, the PrometheusRule and the dashboard ConfigMap."""
    profile = ctx.profile
    obs = profile.spec.observability
    models = monitored_models(profile)
    if obs is None:
        return Rendered()
    by_name = {m.name: m for m in profile.spec.models}
    objects: list[dict[str, Any]] = []
    for target in scrape_targets(profile):
        model = by_name[target.name] if target.kind == "model" else None
        if model is None or descriptor(model.engine).kserve_settings:
            objects += pod_monitor(ctx, obs, target)
        else:
            objects += monitor(ctx, obs, model)
    if not models:
        return Rendered(objects=objects)
    platform = profile.spec.platform.name
    rules_name = f"{platform}-models"
    objects += ctx.render("observability/prometheusrule.yaml.j2", name=rules_name,
                          namespace=obs.namespace,
                          labels={**labels(profile, rules_name, COMPONENT),
                                  **obs.prometheus.rule_labels},
                          groups=rule_groups(profile, obs, models))
    if obs.grafana.enabled:
        name = f"{platform}-models-dashboard"
        objects += ctx.render("observability/dashboard-configmap.yaml.j2", name=name,
                              namespace=obs.namespace,
                              labels={**labels(profile, name, COMPONENT),
                                      obs.grafana.sidecar_label: obs.grafana.sidecar_label_value},
                              data={f"{platform}-models.json": dashboard_json(profile, models)})
    return Rendered(objects=objects)


def monitor(ctx: RenderContext, obs: Observability, model: Model) -> list[dict[str, Any]]:
    """The ServiceMonitor or PodMonitor of a model's servers."""
    prometheus = obs.prometheus
    kind = "servicemonitor" if prometheus.scrape_with == "ServiceMonitor" else "podmonitor"
    engine = descriptor(model.engine)
    endpoint = {"port": engine.metrics_port.name, "path": engine.metrics_path,
                "interval": prometheus.scrape_interval}
    return ctx.render(f"observability/{kind}.yaml.j2", name=model.name,
                      namespace=model.namespace,
                      labels={**labels(ctx.profile, model.name, COMPONENT,
                                       **{MODEL_LABEL: model.name}),
                              **prometheus.monitor_labels},
                      selector=selector(model_context(ctx.profile, model)),
                      pod_target_labels=POD_TARGET_LABELS, endpoints=[endpoint])


def pod_monitor(ctx: RenderContext, obs: Observability, target: ScrapeTarget
                ) -> list[dict[str, Any]]:
    """The PodMonitor of a data store's metrics port, or of a KServe predictor's (KServe names
    and labels the predictor Service itself, so pods are selected directly)."""
    prometheus = obs.prometheus
    endpoint: dict[str, Any] = {"port": target.port_name, "interval": prometheus.scrape_interval}
    if target.path is not None:
        endpoint["path"] = target.path
    model = {MODEL_LABEL: target.name} if target.kind == "model" else {}
    return ctx.render("observability/podmonitor.yaml.j2", name=target.name,
                      namespace=target.namespace,
                      labels={**labels(ctx.profile, target.name, COMPONENT, **model),
                              **prometheus.monitor_labels},
                      selector=target.pod_labels,
                      pod_target_labels=POD_TARGET_LABELS if model else [],
                      endpoints=[endpoint])


def tracing_args(profile: Profile) -> list[str]:
    """vLLM flags that send traces to the profile's collector (none without `tracing`)."""
    obs = profile.spec.observability
    if obs is None or obs.tracing is None:
        return []
    return ["--otlp-traces-endpoint", obs.tracing.otlp_endpoint]


def tracing_env(mc: ModelContext) -> list[dict[str, str]]:
    """OpenTelemetry environment of a vLLM server: its service name and the transport."""
    obs = mc.profile.spec.observability
    if obs is None or obs.tracing is None:
        return []
    env = [{"name": "OTEL_SERVICE_NAME", "value": mc.name},
           {"name": "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "value": obs.tracing.protocol}]
    if obs.tracing.otlp_endpoint.startswith("http://"):
        env.append({"name": "OTEL_EXPORTER_OTLP_TRACES_INSECURE", "value": "true"})
    return env
