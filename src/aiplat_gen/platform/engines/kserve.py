"""KServe (`engine: kserve`): an InferenceService whose predictor runs the Hugging Face runtime
(vLLM backend) or Triton. KServe names the container, sets the probes and serves the predictor
behind `<name>-predictor` on port 80; aiplat-gen renders no autoscaler for it (KServe scales its
predictor itself).

Metrics: each runtime's ClusterServingRuntime names its metrics endpoint in the annotations
`prometheus.kserve.io/port` and `prometheus.kserve.io/path` (kserve/kserve v0.20.0,
config/runtimes/kserve-huggingfaceserver.yaml: `8080`, `/metrics`; kserve-tritonserver.yaml:
`8002`, `/metrics`). The Hugging Face runtime serves prometheus_client's default registry at
`/metrics` on its HTTP port (python/kserve/kserve/protocol/rest/server.py `metrics_handler`),
which holds the `vllm:` series of the in-process vLLM engine (huggingfaceserver/vllm/
vllm_model.py builds an `AsyncLLM` with stats logging on). Neither runtime declares a container
port, so no PodMonitor could select one: in `Standard` mode aiplat-gen declares the HTTP port
and the metrics port on the predictor (KServe then names the predictor Service's port after
the first: service_reconciler.go `createDefaultSvc`). Knative allows one port named `http1` or
`h2c`, so Knative predictors are not scraped.

No alerts or dashboard rows yet (`metrics=None`): the vLLM series' `model_name` label holds
vLLM's served name, which the runtime does not set from `--model_name`, and the runtime has
no HTTP status counter (vLLM's `http_requests_total` comes from its own API server, which the
runtime does not run), so the error signal has no confirmed source."""

from __future__ import annotations

from dataclasses import replace

from aiplat_gen.platform.engines import triton, vllm
from aiplat_gen.platform.engines.base import EngineDescriptor, EnginePort, Runtime
from aiplat_gen.profile.schema.serving import Model

HTTP = EnginePort("http", 8080)
OPENAI_PREFIX = "/openai"
"""KServe's model server puts its OpenAI routes under `KSERVE_OPENAI_ROUTE_PREFIX`, default
`/openai` (kserve/kserve python/kserve/kserve/protocol/rest/openai/endpoints.py,
`register_openai_endpoints`; KServe docs, "Hugging Face runtime: API endpoints", v0.15-v0.20).
aiplat-gen does not set the variable."""
HUGGINGFACE_API = replace(
    vllm.OPENAI_API,
    prefix=OPENAI_PREFIX + vllm.OPENAI_API.prefix,
    paths=tuple(OPENAI_PREFIX + p for p in ("/v1/chat/completions", "/v1/completions",
                                            "/v1/embeddings", "/v1/rerank", "/v1/models")),
    # KServe's own protocols (`/v1/models/{model}:predict`, `/v2/...`) and its probes.
    internal=("/", "/metrics", "/v1/models", "/v2/health/live", "/v2/health/ready",
              "/v2/models/{model}/infer"),
    chat_completions=OPENAI_PREFIX + "/v1/chat/completions",
)
HUGGINGFACE = Runtime("huggingface", llm=True, model_repository=False,
                      managed_flags=vllm.MANAGED_FLAGS | {"--model_name", "--model_dir",
                                                          "--max_model_len"},
                      # The runtime's vLLM backend loads the folder as `vllm serve` does.
                      hub_files=vllm.HUB_FILES, api=HUGGINGFACE_API, metrics_port=HTTP)
TRITON = Runtime("triton", llm=False, model_repository=True, managed_flags=frozenset({
    "--model-control-mode", "--load-model", "--model-repository", "--model-store"}),
    hub_files=None, api=triton.KSERVE_V2_API, metrics_port=triton.METRICS_PORT)

KSERVE = EngineDescriptor(
    name="kserve",
    title="KServe",
    server_container="kserve-container",
    api_ports=(HTTP,),
    # The Hugging Face runtime's; `Runtime.metrics_port` is each runtime's.
    metrics_port=HTTP,
    metrics_path="/metrics",
    service_suffix="-predictor",
    service_port=80,
    health=None,
    runtimes=(HUGGINGFACE, TRITON),
    metrics=None,
    lora=False,
    lora_files=None,
    object_store_weights=False,
    always_fetches_weights=True,
    per_replica_storage=False,
    controller="kserve",
    kserve_settings=True,
)


def declared_ports(model: Model, runtime: Runtime) -> tuple[EnginePort, ...]:
    """The container ports aiplat-gen declares on a KServe predictor running `runtime` (the
    model's, `engines.runtime_of`): its HTTP port and the runtime's metrics port in `Standard`
    mode, none in `Knative` mode (see the module)."""
    if model.kserve is not None and model.kserve.deployment_mode == "Knative":
        return ()
    metrics = runtime.metrics_port or KSERVE.metrics_port
    return (HTTP,) if metrics == HTTP else (HTTP, metrics)
