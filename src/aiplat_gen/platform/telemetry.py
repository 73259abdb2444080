"""What the autoscaling and observability components share: which models are monitored, how
their series are selected, and what their autoscalers are called."""

from __future__ import annotations

from aiplat_gen.platform.engines import ENGINES, descriptor, metrics_of
from aiplat_gen.platform.promql import ModelSeries
from aiplat_gen.platform.resolved import resolve
from aiplat_gen.platform.scraping import scrape_targets
from aiplat_gen.profile.schema.profile import Profile
from aiplat_gen.profile.schema.serving import Model

AUTOSCALED_ENGINES = tuple(e for e in ENGINES if descriptor(e).autoscaled)
"""Engines whose models aiplat-gen may autoscale (vLLM, Triton; KServe scales its own)."""
KEDA_HPA_PREFIX = "keda-hpa-"


def monitored_models(profile: Profile) -> list[Model]:
    """Models whose servers Prometheus scrapes (`platform.scraping`) and whose series aiplat-gen
    knows (`engines.metrics_of`), in profile order: each gets its alert rules and its dashboard
    row. (A KServe predictor in `Knative` mode is not scraped.)"""
    scraped = {t.name for t in scrape_targets(profile) if t.kind == "model"}
    return [m for m in profile.spec.models
            if m.name in scraped and metrics_of(m) is not None]


def series_for(profile: Profile, model: Model) -> ModelSeries:
    """How the model's series are selected in PromQL."""
    stateful = model.storage is not None and model.storage.per_replica
    return ModelSeries(
        name=model.name, engine=model.engine, namespace=model.namespace,
        served_name=model.served_model_name or model.name, stateful=stateful, gpus=model.gpus,
        dcgm_honor_labels=profile.spec.gpu_operator.dcgm_honor_labels,
        exported=metrics_of(model),
        workload=model.name + descriptor(model.engine).workload_suffix)


def workload_kind(model: Model) -> str:
    """`StatefulSet` with per-replica weight volumes, else `Deployment`."""
    return "StatefulSet" if model.storage is not None and model.storage.per_replica \
        else "Deployment"


def hpa_name(model: Model) -> str | None:
    """Name of the HorizontalPodAutoscaler that scales the model (KEDA creates
    `keda-hpa-<scaledobject>`), or None when it does not autoscale."""
    if model.autoscaling is None:
        return None
    return KEDA_HPA_PREFIX + model.name if model.autoscaling.engine == "keda" else model.name


def dcgm_scraped(profile: Profile) -> bool:
    """Whether GPU metrics reach Prometheus through the GPU Operator's DCGM ServiceMonitor."""
    operator = profile.spec.gpu_operator
    return operator.enabled and operator.dcgm_service_monitor


def on_mig(profile: Profile, model: Model) -> bool:
    """Whether the model's replicas run on MIG slices (where DCGM reports no GPU utilisation)."""
    device = resolve(profile).model(model).device
    return device is not None and device.mig
