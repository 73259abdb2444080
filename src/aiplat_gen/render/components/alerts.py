"""The alert rules of the platform's PrometheusRule: one rule group per scraped model (vLLM,
Triton, KServe in `Standard` mode), from the series its engine or KServe runtime exports
(`engines.metrics_of`).

Each alert has a `severity` label (`warning` or `critical`), the model's `namespace` and
`model`, and `summary`, `description` and `runbook_url` annotations (`<runbookBaseUrl>/
<alert-name>.md`). Thresholds come from `spec.observability.alerts`:

| Alert | Fires when | for | severity |
|---|---|---|---|
| `ModelGPUUtilizationLow` | average GPU use < `gpuUtilizationLow` % (idle cost) | 1h | warning |
| `ModelGPUUtilizationHigh` | average GPU use > `gpuUtilizationHigh` % (capacity) | 30m | warning |
| `ModelLatencyHigh` | p95 end-to-end latency > `latencyP95Seconds` (Triton: mean) | 10m | warning |
| `ModelErrorRateHigh` | failed requests / requests > `errorRatio` (see below) | 10m | critical |
| `ModelQueueBacklog` | waiting requests > `queueDepth` | 15m | warning |
| `ModelKVCacheNearlyFull` | fullest replica's KV cache > `kvCacheUsage` (vLLM) | 10m | warning |
| `ModelPodRestarting` | a pod restarted more than `restartsPerHour` times in 1h | 0m | warning |
| `ModelOOMKilled` | a container was OOM-killed and restarted in the last 30m | 0m | critical |
| `ModelAtMaxReplicas` | the autoscaler runs `maxReplicas` | `atMaxReplicasFor` | warning |

Failed requests are vLLM's HTTP 5xx answers, Triton's failed inferences, and for KServe's
Hugging Face runtime (which has no HTTP status counter) the requests its vLLM engine finished
with an error (`platform.engines.kserve`). The KV-cache alert is for vLLM backends (`vllm`,
KServe's Hugging Face runtime). `ModelAtMaxReplicas` needs an autoscaler, which KServe models do
not get. GPU alerts need the GPU Operator's DCGM ServiceMonitor and are left out for models on
MIG slices, for which DCGM reports no `DCGM_FI_DEV_GPU_UTIL`.
"""

from __future__ import annotations

import functools
from typing import Any

from aiplat_gen.platform import promql
from aiplat_gen.platform.telemetry import dcgm_scraped, hpa_name, on_mig, series_for
from aiplat_gen.profile.schema.observability import Observability
from aiplat_gen.profile.schema.profile import Profile
from aiplat_gen.profile.schema.serving import Model


def _alert(obs: Observability, model: Model, name: str, expr: str, duration: str,
           severity: str, summary: str, description: str) -> dict[str, Any]:
    return {
        "alert": name,
        "expr": expr,
        "for": duration,
        "labels": {"severity": severity, "namespace": model.namespace, "model": model.name},
        "annotations": {
            "summary": summary,
            "description": description,
            "runbook_url": f"{obs.runbook_base_url.rstrip('/')}/{_kebab(name)}.md",
        },
    }


@functools.cache  # a few alert names, thousands of rules
def _kebab(name: str) -> str:
    out = ""
    for i, char in enumerate(name):
        if char.isupper() and i and not (name[i - 1].isupper() and
                                          (i + 1 == len(name) or name[i + 1].isupper())):
            out += "-"
        out += char.lower()
    return out


def model_alerts(profile: Profile, obs: Observability, model: Model) -> list[dict[str, Any]]:
    """The alert rules of one model."""
    t = obs.alerts
    m = series_for(profile, model)
    who = f"{model.name} in {model.namespace}"
    value = "{{ $value | humanize }}"
    rules = []
    if dcgm_scraped(profile) and not on_mig(profile, model):
        gpu = promql.gpu_utilization_avg(m)
        rules.append(_alert(
            obs, model, "ModelGPUUtilizationLow", promql.threshold(gpu, "<", t.gpu_utilization_low),
            "1h", "warning", f"GPUs of {who} are mostly idle",
            f"The GPUs of {who} averaged {value}% utilisation over the last hour (threshold "
            f"{promql.number(t.gpu_utilization_low)}%): paid for and unused. Lower the replicas "
            "or share the GPUs."))
        rules.append(_alert(
            obs, model, "ModelGPUUtilizationHigh",
            promql.threshold(gpu, ">", t.gpu_utilization_high), "30m", "warning",
            f"GPUs of {who} are saturated",
            f"The GPUs of {who} averaged {value}% utilisation for 30 minutes (threshold "
            f"{promql.number(t.gpu_utilization_high)}%): add replicas or capacity."))
    kind = "p95" if m.metrics.latency.quantile else "mean"
    rules.append(_alert(
        obs, model, "ModelLatencyHigh",
        promql.threshold(promql.latency_p95(m), ">", t.latency_p95_seconds), "10m", "warning",
        f"{who} answers slowly",
        f"The {kind} end-to-end latency of {who} is {value}s (threshold "
        f"{promql.number(t.latency_p95_seconds)}s)."))
    rules.append(_alert(
        obs, model, "ModelErrorRateHigh",
        promql.threshold(promql.error_ratio(m), ">", t.error_ratio), "10m", "critical",
        f"{who} fails requests",
        f"{{{{ $value | humanizePercentage }}}} of the requests to {who} fail (threshold "
        f"{promql.number(t.error_ratio * 100)}%)."))
    rules.append(_alert(
        obs, model, "ModelQueueBacklog",
        promql.threshold(promql.queue_depth(m), ">", t.queue_depth), "15m", "warning",
        f"Requests to {who} keep queueing",
        f"{value} requests have been waiting for {who} for 15 minutes (threshold "
        f"{promql.number(t.queue_depth)})."))
    if m.metrics.kv_cache_usage is not None:
        rules.append(_alert(
            obs, model, "ModelKVCacheNearlyFull",
            promql.threshold(promql.kv_cache_max(m), ">", t.kv_cache_usage), "10m", "warning",
            f"KV cache of {who} is nearly full",
            f"A replica of {who} uses {{{{ $value | humanizePercentage }}}} of its KV cache: "
            "requests get preempted. Add replicas, lower maxModelLen or raise "
            "gpuMemoryUtilization."))
    rules.append(_alert(
        obs, model, "ModelPodRestarting",
        promql.threshold(promql.restarts(m), ">", t.restarts_per_hour), "0m", "warning",
        f"A pod of {who} keeps restarting",
        f"Pod {{{{ $labels.pod }}}} of {who} restarted {value} times in the last hour."))
    rules.append(_alert(
        obs, model, "ModelOOMKilled", promql.oom_killed(m), "0m", "critical",
        f"A container of {who} was OOM-killed",
        f"Container {{{{ $labels.container }}}} of pod {{{{ $labels.pod }}}} ({who}) was killed "
        "for exceeding its memory limit: raise resources.memory (/dev/shm counts in it)."))
    hpa = hpa_name(model)
    if hpa is not None:
        rules.append(_alert(
            obs, model, "ModelAtMaxReplicas", promql.at_max_replicas(model.namespace, hpa),
            t.at_max_replicas_for, "warning", f"{who} runs at its maximum replicas",
            f"{who} has run at maxReplicas for {t.at_max_replicas_for}: demand exceeds what it "
            "may scale to. Raise maxReplicas (and the GPU quota) or add capacity."))
    return rules


def rule_groups(profile: Profile, obs: Observability, models: list[Model]
                ) -> list[dict[str, Any]]:
    """One rule group per model."""
    return [{"name": f"{model.namespace}.{model.name}", "rules": model_alerts(profile, obs, model)}
            for model in models]
