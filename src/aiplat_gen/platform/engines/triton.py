"""NVIDIA Triton Inference Server (`engine: triton`): HTTP, gRPC and a separate metrics port;
counters only, so latencies are means. Metric names and labels: `facts.metrics` (Triton user
guide, Metrics)."""

from __future__ import annotations

from aiplat_gen.platform.engines.base import (
    EngineDescriptor,
    EngineMetrics,
    EnginePort,
    ErrorSignal,
    Probes,
    Runtime,
    Timing,
)
from aiplat_gen.platform.facts.metrics import METRICS

HTTP = EnginePort("http", 8000)
GRPC = EnginePort("grpc", 8001)
METRICS_PORT = EnginePort("metrics", 8002)
MANAGED_FLAGS = frozenset({
    "--model-repository", "--model-store", "--model-control-mode", "--load-model",
    "--http-port", "--grpc-port", "--metrics-port",
})
"""Flags of `tritonserver` aiplat-gen sets."""
RUNTIME = Runtime("triton", llm=False, model_repository=True, managed_flags=MANAGED_FLAGS,
                  hub_files=None)
MICROSECONDS = "1e6"
"""Triton's duration counters count microseconds."""

TRITON = EngineDescriptor(
    name="triton",
    title="Triton",
    server_container="triton",
    api_ports=(HTTP, GRPC),
    metrics_port=METRICS_PORT,
    metrics_path="/metrics",
    service_suffix="",
    service_port=HTTP.number,
    health=Probes(live="/v2/health/live", ready="/v2/health/ready"),
    api_prefix="/v1",
    chat_completions_path="/v1/chat/completions",
    runtimes=(RUNTIME,),
    metrics=EngineMetrics(
        served_name_label=None,
        queue_depth=METRICS["nv_inference_pending_request_count"],
        queue_word="pending",
        requests=METRICS["nv_inference_request_success"],
        running=None,
        kv_cache_usage=None,
        latency=Timing(METRICS["nv_inference_request_duration_us"], MICROSECONDS),
        time_to_first_token=None,
        queue_time=Timing(METRICS["nv_inference_queue_duration_us"], MICROSECONDS),
        throughput=(("inferences", METRICS["nv_inference_count"]),),
        errors=ErrorSignal(failed=METRICS["nv_inference_request_failure"], failed_matchers=(),
                           total=None, by_target=False),
    ),
    lora=False,
    lora_files=None,
    object_store_weights=True,
    always_fetches_weights=False,
    per_replica_storage=True,
    controller=None,
    kserve_settings=False,
)
