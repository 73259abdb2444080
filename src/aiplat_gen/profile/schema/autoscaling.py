"""Profile models of autoscaling: how many replicas a model runs, and on which signals.

A model with `autoscaling` leaves `replicas` to the autoscaler: KEDA (a `ScaledObject` with
Prometheus triggers) or, for teams without KEDA, a plain `HorizontalPodAutoscaler` on custom
metrics served by prometheus-adapter. Bounds and thresholds are checked by `checks.autoscaling`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from aiplat_gen.profile.schema.types import Strict

CRON_PATTERN = r"^\S+( \S+){4}$"


class ScalingTargets(Strict):
    """What one replica is meant to carry; the autoscaler adds replicas above it. Queue depth is
    always used; the other two are optional extra triggers (the highest demand wins)."""

    queue_depth: float = Field(default=5, examples=[8])
    """Requests waiting per replica (vLLM `vllm:num_requests_waiting`, Triton
    `nv_inference_pending_request_count`), summed over the model's pods."""
    kv_cache_usage: float | None = Field(default=None, examples=[0.85])
    """Average KV-cache use across replicas, 0-1 (vLLM `vllm:kv_cache_usage_perc`); vLLM only."""
    gpu_utilization: float | None = Field(default=None, examples=[85])
    """Average GPU utilisation across the model's GPUs, in percent (DCGM
    `DCGM_FI_DEV_GPU_UTIL`); not available on MIG slices."""


class WakeSchedule(Strict):
    """When a model that scales to zero is brought up (a KEDA `cron` trigger). A model at zero
    replicas exports no metrics, so nothing in its own metrics can wake it."""

    timezone: str = Field(pattern=r"^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$", examples=["Europe/Berlin"])
    """IANA time zone of the schedule."""
    start: str = Field(pattern=CRON_PATTERN, examples=["0 8 * * 1-5"])
    """Cron expression (minute hour day month weekday) at which the model comes up."""
    end: str = Field(pattern=CRON_PATTERN, examples=["0 19 * * 1-5"])
    """Cron expression after which it may scale back to zero once its queue is idle."""


class Autoscaling(Strict):
    """Replica bounds and triggers of a model; the workload then carries no `replicas`."""

    engine: Literal["keda", "hpa"] = "keda"
    """`keda` (a ScaledObject, the default) or `hpa` (autoscaling/v2 on custom metrics served by
    prometheus-adapter, for clusters without KEDA; no scale to zero)."""
    min_replicas: int = Field(default=1, ge=0, le=1000)
    """Fewest replicas; 0 scales to zero (KEDA only, needs `wakeSchedule`)."""
    max_replicas: int = Field(ge=1, le=1000, examples=[4])
    """Most replicas: what the namespace quota and the node pools must hold."""
    targets: ScalingTargets = ScalingTargets()
    """Per-replica targets of the triggers."""
    activation_queue_depth: float = Field(default=0, examples=[1])
    """KEDA activation threshold: the model counts as active (kept above zero) while more
    requests than this wait. Matters only with `minReplicas: 0`."""
    wake_schedule: WakeSchedule | None = None
    """With `minReplicas: 0`: when to bring the model up."""
    polling_interval_seconds: int = Field(default=15, ge=1, le=3600)
    """How often KEDA queries Prometheus (`pollingInterval`)."""
    cooldown_period_seconds: int = Field(default=300, ge=0, le=86400)
    """How long the model must be idle before KEDA scales it to zero (`cooldownPeriod`)."""
    scale_down_stabilization_seconds: int = Field(default=300, ge=0, le=3600)
    """The HPA keeps the highest recommendation of this window before removing replicas:
    model servers take minutes to start, so scaling down on a short dip costs a cold start."""
    fallback_replicas: int | None = Field(default=None, ge=1, le=1000, examples=[2])
    """KEDA: replicas to run while Prometheus cannot be queried (after 3 failed polls)."""
