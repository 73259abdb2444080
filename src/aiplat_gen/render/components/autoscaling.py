"""Autoscaling of vLLM and Triton models (`models[].autoscaling`): a KEDA `ScaledObject` or an
autoscaling/v2 `HorizontalPodAutoscaler` per model; the model's Deployment or StatefulSet then
carries no `replicas`, so GitOps and the autoscaler never fight over it (ArgoCD also ignores
`/spec/replicas` of every autoscaled workload). Environments change `minReplicas` and
`maxReplicas`, never `replicas`.

KEDA (`engine: keda`, keda.sh/v1alpha1), one Prometheus trigger per signal, all `AverageValue`:

- queue depth: `sum(vllm:num_requests_waiting{namespace, model_name})` (Triton:
  `sum(nv_inference_pending_request_count{namespace, ai_platform_model})`) against
  `targets.queueDepth` waiting requests per replica;
- optionally KV-cache use, `sum(vllm:kv_cache_usage_perc{...})` against `targets.kvCacheUsage`
  per replica, and GPU utilisation, `sum(DCGM_FI_DEV_GPU_UTIL{exported_namespace,
  exported_pod=~<the model's pods>}) / <GPUs per replica>` against `targets.gpuUtilization`
  (`namespace`/`pod` when the DCGM ServiceMonitor honours labels). The highest demand wins.

Thresholds are strings, as KEDA wants them; there is no `metricName` (obsolete since KEDA 2.10).
`pollingInterval`, `cooldownPeriod`, and the HPA behaviour (scale-down stabilisation window,
one replica per minute down) come from the profile. A model with `minReplicas >= 1` sets
`ignoreNullValues: "false"`: an empty result means Prometheus lost the model's targets, and KEDA
then keeps the replicas it has (or runs `fallbackReplicas`) instead of scaling down to the
minimum. A model that scales to zero (`minReplicas: 0`) has no pods and so no series while at
zero: its queries keep `ignoreNullValues: "true"`, its queue trigger has the profile's
`activationQueueDepth`, and a `cron` trigger (`wakeSchedule`) brings it up, since nothing in its
own metrics can. With `spec.observability.prometheus.auth`, a `TriggerAuthentication`
(`prometheus-auth`) in each namespace of a KEDA-scaled model hands KEDA the Secret.

HPA (`engine: hpa`), for clusters without KEDA: `Pods` metrics from the custom metrics API,
served by prometheus-adapter with the rules aiplat-gen writes to
`helm/prometheus-adapter/values.yaml` (`vllm:num_requests_waiting` becomes
`vllm_num_requests_waiting`, and so on: the underscore names exist only behind the adapter).
Install the prometheus-adapter chart with those values; the HPA cannot scale to zero.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from aiplat_gen.platform.facts.metrics import Metric
from aiplat_gen.platform.pods import MODEL_LABEL
from aiplat_gen.platform.promql import (
    ADAPTER_AVG,
    ADAPTER_SUM,
    ModelSeries,
    gpu_utilization_per_replica_sum,
    kv_cache_sum,
    number,
    queue_depth,
)
from aiplat_gen.platform.telemetry import series_for, workload_kind
from aiplat_gen.profile.schema.autoscaling import Autoscaling
from aiplat_gen.profile.schema.observability import PrometheusAuth
from aiplat_gen.profile.schema.profile import Profile
from aiplat_gen.profile.schema.serving import Model
from aiplat_gen.render.components.base import RenderContext, Rendered, labels

COMPONENT = "autoscaler"
ADAPTER_CHART = "prometheus-adapter"
TRIGGER_AUTH = "prometheus-auth"
FAILURE_THRESHOLD = 3

# prometheus-adapter rules: (Prometheus series, custom metric name, aggregation, DCGM?).
ADAPTER_RULES: tuple[tuple[str, str, str, bool], ...] = (
    ("vllm:num_requests_waiting", "vllm_num_requests_waiting", ADAPTER_SUM, False),
    ("vllm:kv_cache_usage_perc", "vllm_kv_cache_usage_perc", ADAPTER_SUM, False),
    ("nv_inference_pending_request_count", "nv_inference_pending_request_count", ADAPTER_SUM,
     False),
    ("DCGM_FI_DEV_GPU_UTIL", "dcgm_fi_dev_gpu_util", ADAPTER_AVG, True),
)


def autoscaled(profile: Profile, engine: str) -> list[Model]:
    """Models scaled by one engine (`keda` or `hpa`), in profile order."""
    return [m for m in profile.spec.models
            if m.autoscaling is not None and m.autoscaling.engine == engine]


def render(ctx: RenderContext) -> Rendered:
    """ScaledObjects, TriggerAuthentications, HPAs and the prometheus-adapter values."""
    profile = ctx.profile
    objects: list[dict[str, Any]] = []
    keda = autoscaled(profile, "keda")
    auth = _auth(profile)
    for namespace in dict.fromkeys(m.namespace for m in keda):
        if auth is not None:
            objects += ctx.render("autoscaling/triggerauthentication.yaml.j2",
                                  name=TRIGGER_AUTH, namespace=namespace,
                                  labels=labels(profile, TRIGGER_AUTH, COMPONENT),
                                  secret_refs=secret_target_refs(auth))
    for model in keda:
        objects += ctx.render("autoscaling/scaledobject.yaml.j2", **scaled_object(profile, model))
    hpas = [horizontal_pod_autoscaler(profile, m) for m in autoscaled(profile, "hpa")]
    for view in hpas:
        objects += ctx.render("autoscaling/horizontalpodautoscaler.yaml.j2", **view)
    helm: dict[str, dict[str, Any]] = {}
    if hpas:
        helm[ADAPTER_CHART] = ctx.render("autoscaling/prometheus-adapter-values.yaml.j2",
                                         **adapter_values(profile, hpas))[0]
    return Rendered(objects=objects, helm_values=helm)


def _auth(profile: Profile) -> PrometheusAuth | None:
    observability = profile.spec.observability
    return observability.prometheus.auth if observability else None


def _address(profile: Profile) -> str:
    observability = profile.spec.observability
    address = observability.prometheus.address if observability else None
    assert address, "checked by checks.autoscaling.prometheus_address"
    return address


def _settings(model: Model) -> Autoscaling:
    assert model.autoscaling is not None
    return model.autoscaling


def secret_target_refs(auth: PrometheusAuth) -> list[dict[str, str]]:
    """TriggerAuthentication parameters of the Prometheus scaler from the Secret."""
    secret = auth.secret
    if auth.mode == "bearer":
        return [{"parameter": "bearerToken", "name": secret.name, "key": secret.key}]
    return [{"parameter": "username", "name": secret.name, "key": "username"},
            {"parameter": "password", "name": secret.name, "key": secret.key}]


def _target(model: Model) -> dict[str, str]:
    return {"apiVersion": "apps/v1", "kind": workload_kind(model), "name": model.name}


def _labels(profile: Profile, model: Model) -> dict[str, str]:
    return labels(profile, model.name, COMPONENT, **{MODEL_LABEL: model.name})


def behavior(settings: Autoscaling) -> dict[str, Any]:
    """HPA behaviour: a stabilisation window before removing replicas, one per minute."""
    return {"scaleDown": {"stabilizationWindowSeconds": settings.scale_down_stabilization_seconds,
                          "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}}


def signals(series: ModelSeries, settings: Autoscaling) -> list[tuple[str, str, float]]:
    """(trigger name, query, per-replica target) of every signal the model scales on."""
    targets = settings.targets
    result = [("queue-depth", queue_depth(series), targets.queue_depth)]
    if targets.kv_cache_usage is not None:
        result.append(("kv-cache-usage", kv_cache_sum(series), targets.kv_cache_usage))
    if targets.gpu_utilization is not None:
        result.append(("gpu-utilization", gpu_utilization_per_replica_sum(series),
                       targets.gpu_utilization))
    return result


def scaled_object(profile: Profile, model: Model) -> dict[str, Any]:
    """The view of a model's ScaledObject."""
    settings = _settings(model)
    to_zero = settings.min_replicas == 0
    auth = _auth(profile)
    triggers: list[dict[str, Any]] = []
    for name, query, target in signals(series_for(profile, model), settings):
        metadata = {"serverAddress": _address(profile), "query": query,
                    "threshold": number(target)}
        if to_zero:
            # Only queued requests keep a model up; the other signals count once it runs.
            activation = settings.activation_queue_depth if name == "queue-depth" else target
            metadata["activationThreshold"] = number(activation)
        metadata["ignoreNullValues"] = "true" if to_zero else "false"
        trigger: dict[str, Any] = {"type": "prometheus", "name": name,
                                   "metricType": "AverageValue", "metadata": metadata}
        if auth is not None:
            metadata["authModes"] = auth.mode
            trigger["authenticationRef"] = {"name": TRIGGER_AUTH}
        triggers.append(trigger)
    if settings.wake_schedule is not None:
        wake = settings.wake_schedule
        triggers.append({"type": "cron", "name": "wake-schedule", "metadata": {
            "timezone": wake.timezone, "start": wake.start, "end": wake.end,
            "desiredReplicas": str(max(1, settings.min_replicas))}})
    fallback = None
    if settings.fallback_replicas is not None:
        fallback = {"failureThreshold": FAILURE_THRESHOLD, "replicas": settings.fallback_replicas}
    return {"name": model.name, "namespace": model.namespace,
            "labels": _labels(profile, model), "target": _target(model),
            "polling_interval": settings.polling_interval_seconds,
            "cooldown_period": settings.cooldown_period_seconds,
            "min_replicas": settings.min_replicas, "max_replicas": settings.max_replicas,
            "fallback": fallback, "behavior": behavior(settings), "triggers": triggers}


def quantity(value: float) -> str:
    """A Kubernetes quantity for a target value (`5`, `850m`)."""
    if float(value).is_integer():
        return str(int(value))
    return f"{round(value * 1000)}m"


def horizontal_pod_autoscaler(profile: Profile, model: Model) -> dict[str, Any]:
    """The view of a model's HorizontalPodAutoscaler on prometheus-adapter's custom metrics."""
    settings = _settings(model)
    targets = settings.targets
    exported = series_for(profile, model).metrics
    wanted: list[tuple[str, float | None]] = [
        (_custom_metric(exported.queue_depth), targets.queue_depth)]
    if exported.kv_cache_usage is not None:
        wanted.append((_custom_metric(exported.kv_cache_usage), targets.kv_cache_usage))
    wanted.append(("dcgm_fi_dev_gpu_util", targets.gpu_utilization))
    metrics = [{"type": "Pods", "pods": {"metric": {"name": name},
                                         "target": {"type": "AverageValue",
                                                    "averageValue": quantity(value)}}}
               for name, value in wanted if value is not None]
    return {"name": model.name, "namespace": model.namespace,
            "labels": _labels(profile, model), "target": _target(model),
            "min_replicas": settings.min_replicas, "max_replicas": settings.max_replicas,
            "metrics": metrics, "behavior": behavior(settings)}


def _custom_metric(metric: Metric) -> str:
    """The name prometheus-adapter serves a series under (its rule in `ADAPTER_RULES`)."""
    return next(name for series, name, _, _ in ADAPTER_RULES if series == metric.name)


def adapter_rules(profile: Profile, used: set[str]) -> list[dict[str, Any]]:
    """prometheus-adapter custom-metrics rules for the metrics the HPAs use: each series
    associated with its namespace and pod (for DCGM, the workload labels the GPU Operator's
    ServiceMonitor produces)."""
    honor = profile.spec.gpu_operator.dcgm_honor_labels
    rules = []
    for series, name, aggregation, dcgm in ADAPTER_RULES:
        if name not in used:
            continue
        prefix = "exported_" if dcgm and not honor else ""
        ns, pod = f"{prefix}namespace", f"{prefix}pod"
        rules.append({
            "seriesQuery": f'{series}{{{ns}!="",{pod}!=""}}',
            "resources": {"overrides": {ns: {"resource": "namespace"},
                                        pod: {"resource": "pod"}}},
            "name": {"matches": f"^{series}$", "as": name},
            "metricsQuery": aggregation,
        })
    return rules


def adapter_values(profile: Profile, hpas: list[dict[str, Any]]) -> dict[str, Any]:
    """The view of prometheus-adapter's values: where Prometheus is, and the rules."""
    parts = urlsplit(_address(profile))
    port = parts.port or (443 if parts.scheme == "https" else 80)
    used = {m["pods"]["metric"]["name"] for hpa in hpas for m in hpa["metrics"]}
    return {"url": f"{parts.scheme}://{parts.hostname}", "port": port,
            "path": parts.path.rstrip("/"), "rules": adapter_rules(profile, used)}
