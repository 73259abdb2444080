"""Checks of autoscaling and observability settings: bounds that hold, thresholds an autoscaler
can divide by, signals that exist for the model, and a Prometheus to ask. (That `maxReplicas` x
GPUs fits the namespace quota and the pools is the serving capacity check's job: it counts an
autoscaled model at its `maxReplicas`.)"""

from __future__ import annotations

from collections.abc import Iterator

from aiplat_gen.core.errors import Diagnostic, Severity
from aiplat_gen.platform.engines import metrics_of
from aiplat_gen.platform.telemetry import AUTOSCALED_ENGINES, dcgm_scraped, on_mig
from aiplat_gen.profile.locator import Loc, Locator
from aiplat_gen.profile.schema.autoscaling import Autoscaling
from aiplat_gen.profile.schema.profile import Profile

WARNING = Severity.WARNING


def _autoscaled(profile: Profile) -> Iterator[tuple[int, Autoscaling, Loc]]:
    for i, model in enumerate(profile.spec.models):
        if model.autoscaling is not None:
            yield i, model.autoscaling, ("spec", "models", i, "autoscaling")


def autoscaling_bounds(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """min <= max; scale to zero only with KEDA and a wake schedule; engines that scale. Each
    compares two settings that may come from different profiles of the chain: a relation,
    placed at the one the most-derived profile wrote, naming the other."""
    models = profile.spec.models
    for i, settings, loc in _autoscaled(profile):
        model = models[i]
        if model.engine not in AUTOSCALED_ENGINES:
            yield at.diagnostic((*loc[:-1], "engine"), f"{model.engine!r} models cannot use "
                                "`autoscaling`", "KServe scales its predictor itself; autoscale "
                                f"{' or '.join(AUTOSCALED_ENGINES)} models, or remove "
                                "`autoscaling`")
        if settings.min_replicas > settings.max_replicas:
            yield at.relation((*loc, "minReplicas"), [(*loc, "maxReplicas")],
                              f"minReplicas {settings.min_replicas} is above maxReplicas "
                              f"{settings.max_replicas}", "lower minReplicas or raise maxReplicas")
        fallback = settings.fallback_replicas
        if fallback is not None and fallback > settings.max_replicas:
            yield at.relation((*loc, "fallbackReplicas"), [(*loc, "maxReplicas")],
                              f"fallbackReplicas {fallback} is above maxReplicas "
                              f"{settings.max_replicas}",
                              "the fallback may not exceed what the quota is sized for")
        if fallback is not None and settings.engine == "hpa":
            yield at.relation((*loc, "fallbackReplicas"), [(*loc, "engine")],
                              "fallbackReplicas is a KEDA setting; an HPA keeps its replicas "
                              "while metrics are missing", "remove it, or use engine: keda",
                              WARNING)
        if settings.min_replicas == 0 and settings.engine == "hpa":
            yield at.relation((*loc, "minReplicas"), [(*loc, "engine")], "an HPA cannot "
                              "scale to zero (minReplicas 0)",
                              "use engine: keda, or minReplicas >= 1")
        elif settings.min_replicas == 0 and settings.wake_schedule is None:
            yield at.diagnostic((*loc, "minReplicas"), "minReplicas 0 needs a `wakeSchedule`: "
                                "at zero replicas the model exports no metrics, so no queue "
                                "can ever wake it", "add wakeSchedule {timezone, start, end}, "
                                "or use minReplicas >= 1")
        elif settings.min_replicas > 0 and settings.wake_schedule is not None:
            yield at.relation((*loc, "wakeSchedule"), [(*loc, "minReplicas")], "a wake "
                              "schedule only matters with minReplicas 0 (this model keeps "
                              f"{settings.min_replicas})", "remove it, or set minReplicas: 0",
                              WARNING)
        if "replicas" in model.model_fields_set:
            yield at.diagnostic((*loc[:-1], "replicas"), f"replicas {model.replicas} is "
                                "ignored: the autoscaler owns the replicas of this model",
                                "remove it (an inherited value: `replicas: null`); change "
                                "minReplicas/maxReplicas instead", WARNING)


SCALING_HINT = ("the autoscaler divides demand by this per-replica target, which a replica "
                "must be able to reach")
ALERT_HINT = "a threshold out of range makes the alert fire always or never"


def _positive(value: float, loc: Loc, name: str, at: Locator, upper: float | None = None,
              hint: str = SCALING_HINT) -> Iterator[Diagnostic]:
    if value <= 0 or (upper is not None and value > upper):
        bound = f"in (0, {upper:g}]" if upper is not None else "> 0"
        yield at.diagnostic(loc, f"{name} must be {bound}, not {value:g}", hint)


def autoscaling_thresholds(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """Targets > 0 (KV cache at most 1, GPU utilisation at most 100), and signals that exist
    for the model."""
    models = profile.spec.models
    for i, settings, loc in _autoscaled(profile):
        model = models[i]
        targets = settings.targets
        tloc = (*loc, "targets")
        yield from _positive(targets.queue_depth, (*tloc, "queueDepth"), "targets.queueDepth", at)
        if settings.activation_queue_depth < 0:
            yield at.diagnostic((*loc, "activationQueueDepth"), "activationQueueDepth must be "
                                f">= 0, not {settings.activation_queue_depth:g}")
        if targets.kv_cache_usage is not None:
            yield from _positive(targets.kv_cache_usage, (*tloc, "kvCacheUsage"),
                                 "targets.kvCacheUsage", at, 1)
            exported = metrics_of(model)
            if exported is None or exported.kv_cache_usage is None:
                yield at.diagnostic((*tloc, "kvCacheUsage"), f"{model.engine} models export no "
                                    "KV-cache metric", "scale them on queueDepth")
        if targets.gpu_utilization is not None:
            yield from _positive(targets.gpu_utilization, (*tloc, "gpuUtilization"),
                                 "targets.gpuUtilization", at, 100)
            if on_mig(profile, model):
                yield at.diagnostic((*tloc, "gpuUtilization"), f"{model.name} runs on MIG "
                                    "slices, for which DCGM reports no DCGM_FI_DEV_GPU_UTIL",
                                    "scale it on queueDepth (and kvCacheUsage)")
            elif not dcgm_scraped(profile):
                yield at.diagnostic((*tloc, "gpuUtilization"), "GPU metrics are not scraped: "
                                    "spec.gpuOperator has the operator or its DCGM "
                                    "ServiceMonitor off", "enable gpuOperator.dcgmServiceMonitor"
                                    " or drop targets.gpuUtilization")


def prometheus_address(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """Autoscalers query Prometheus: its address must be set; credentials must fit the mode."""
    obs = profile.spec.observability
    address = obs.prometheus.address if obs else None
    for _, settings, loc in _autoscaled(profile):
        if address is None:
            who = "KEDA" if settings.engine == "keda" else "prometheus-adapter"
            yield at.diagnostic((*loc, "engine"), f"this model autoscales through {who}, which "
                                "queries Prometheus, but spec.observability.prometheus.address "
                                "is not set", "e.g. http://kube-prometheus-stack-prometheus."
                                "monitoring.svc:9090")
    if obs is None or obs.prometheus.auth is None:
        return
    auth = obs.prometheus.auth
    aloc = ("spec", "observability", "prometheus", "auth")
    if auth.mode == "basic" and auth.secret.username is None:
        yield at.diagnostic((*aloc, "secret"), "basic authentication reads `username` and "
                            "`password` from a kubernetes.io/basic-auth Secret",
                            "set secret.username and key: password")
    if auth.secret.remote is not None:
        yield at.diagnostic((*aloc, "secret", "remote"), "the Prometheus credentials are read "
                            "in every namespace of a KEDA-scaled model and are not synced",
                            "create the Secret in those namespaces and remove `remote`")
    if any(s.engine == "hpa" for _, s, _ in _autoscaled(profile)):
        yield at.diagnostic(aloc, "prometheus-adapter values get no credentials from the "
                            "profile", "configure the adapter's Prometheus credentials "
                            "yourself", WARNING)


def alert_thresholds(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """Alert thresholds in range, the low GPU threshold below the high one."""
    obs = profile.spec.observability
    if obs is None:
        return
    t = obs.alerts
    loc = ("spec", "observability", "alerts")
    yield from _positive(t.gpu_utilization_low, (*loc, "gpuUtilizationLow"),
                         "gpuUtilizationLow", at, 100, ALERT_HINT)
    yield from _positive(t.gpu_utilization_high, (*loc, "gpuUtilizationHigh"),
                         "gpuUtilizationHigh", at, 100, ALERT_HINT)
    if t.gpu_utilization_low >= t.gpu_utilization_high:
        yield at.diagnostic((*loc, "gpuUtilizationLow"), f"gpuUtilizationLow "
                            f"{t.gpu_utilization_low:g} is not below gpuUtilizationHigh "
                            f"{t.gpu_utilization_high:g}", "both alerts would fire at once")
    yield from _positive(t.latency_p95_seconds, (*loc, "latencyP95Seconds"),
                         "latencyP95Seconds", at, hint=ALERT_HINT)
    yield from _positive(t.error_ratio, (*loc, "errorRatio"), "errorRatio", at, 1, ALERT_HINT)
    yield from _positive(t.queue_depth, (*loc, "queueDepth"), "queueDepth", at, hint=ALERT_HINT)
    yield from _positive(t.kv_cache_usage, (*loc, "kvCacheUsage"), "kvCacheUsage", at, 1,
                         ALERT_HINT)
