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
    ServedApi,
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
KSERVE_V2_API = ServedApi(
    # `tritonserver` speaks the KServe v2 (Open Inference) protocol only: Triton docs,
    # "HTTP/REST and GRPC Protocol" (docs/customization_guide/inference_protocols.md and
    # docs/protocol/, server r25.12) and the KServe Open Inference Protocol. Its OpenAI-compatible
    # frontend (python/openai in triton-inference-server/server) is a separate program that
    # aiplat-gen does not run, so there is no `/v1` here. Only the per-model endpoints are
    # forwarded: `/v2/repository/...` loads and unloads models, `/v2/health/...` is for probes.
    protocol="kserve-v2",
    prefix="/v2/models",
    client_prefix="/v2/models",
    paths=("/v2/models/{model}", "/v2/models/{model}/ready", "/v2/models/{model}/infer",
           "/v2/models/{model}/generate", "/v2/models/{model}/generate_stream",
           "/v2/models/{model}/config", "/v2/models/{model}/stats"),
    internal=("/v2", "/v2/health/live", "/v2/health/ready", "/v2/repository/index",
              "/v2/repository/models/{model}/load", "/v2/repository/models/{model}/unload",
              "/v2/systemsharedmemory", "/v2/cudasharedmemory", "/v2/trace/setting",
              "/v2/logging", "/metrics"),
    chat_completions=None,
)
"""The HTTP API of `tritonserver` (also KServe's Triton runtime)."""
RUNTIME = Runtime("triton", llm=False, model_repository=True, managed_flags=MANAGED_FLAGS,
                  hub_files=None, api=KSERVE_V2_API)
MICROSECONDS = "1e6"
"""Triton's duration counters count microseconds."""

SERIES = EngineMetrics(
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
)
"""The series of `tritonserver` aiplat-gen queries."""

TRITON = EngineDescriptor(
    name="triton",
    title="Triton",
    server_container="triton",
    api_ports=(HTTP, GRPC),
    metrics_port=METRICS_PORT,
    metrics_path="/metrics",
    service_suffix="",
    workload_suffix="",
    service_port=HTTP.number,
    health=Probes(live="/v2/health/live", ready="/v2/health/ready"),
    runtimes=(RUNTIME,),
    metrics=SERIES,
    autoscaled=True,
    lora=False,
    lora_files=None,
    object_store_weights=True,
    always_fetches_weights=False,
    per_replica_storage=True,
    controller=None,
    kserve_settings=False,
)
