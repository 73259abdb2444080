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

Alerts and dashboard rows: the Triton runtime exports Triton's series (selected, as for
`engine: triton`, by the pods' target label); the Hugging Face runtime the `vllm:` series of
its in-process vLLM 0.24.0 (`facts.metrics`). Their `model_name` label holds vLLM's served name,
which the runtime takes from `--served-model-name` (not `--model_name`) and otherwise sets to
the model path, so they too are selected by the pods' target label. The runtime has no HTTP
status counter (it does not run vLLM's API server, whose `http_requests_total` the vLLM engine's
error alert reads), so its error share is the closest real signal: requests the engine finished
with `finished_reason="error"` (an internal failure, answered 500) among all it finished.
Requests the runtime refuses before they reach the engine (bad input, an unknown model) are
not counted, as 4xx answers are not in vLLM's 5xx share either; a crash of the server process
is seen by the restart alerts."""

from __future__ import annotations

from dataclasses import replace

from aiplat_gen.platform.engines import triton, vllm
from aiplat_gen.platform.engines.base import (
    EngineDescriptor,
    EnginePort,
    ErrorSignal,
    Runtime,
)
from aiplat_gen.platform.facts.metrics import METRICS
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
HUGGINGFACE_METRICS = replace(
    vllm.SERIES,
    # Selected by the pods' target label: `model_name` is vLLM's served name (see the module).
    served_name_label=None,
    # No HTTP status counter in the runtime: requests the engine failed among all it finished.
    errors=ErrorSignal(failed=METRICS["vllm:request_success_total"],
                       failed_matchers=(("finished_reason", "=", "error"),),
                       total=METRICS["vllm:request_success_total"], by_target=False),
)
"""The series of the Hugging Face runtime's vLLM backend (see the module)."""
HUGGINGFACE = Runtime("huggingface", llm=True, model_repository=False,
                      managed_flags=vllm.MANAGED_FLAGS | {"--model_name", "--model_dir",
                                                          "--max_model_len"},
                      # The runtime's vLLM backend loads the folder as `vllm serve` does.
                      hub_files=vllm.HUB_FILES, api=HUGGINGFACE_API, metrics_port=HTTP,
                      metrics=HUGGINGFACE_METRICS)
TRITON = Runtime("triton", llm=False, model_repository=True, managed_flags=frozenset({
    "--model-control-mode", "--load-model", "--model-repository", "--model-store"}),
    hub_files=None, api=triton.KSERVE_V2_API, metrics_port=triton.METRICS_PORT,
    metrics=triton.SERIES)

KSERVE = EngineDescriptor(
    name="kserve",
    title="KServe",
    server_container="kserve-container",
    api_ports=(HTTP,),
    # The Hugging Face runtime's; `Runtime.metrics_port` is each runtime's.
    metrics_port=HTTP,
    metrics_path="/metrics",
    service_suffix="-predictor",
    workload_suffix="-predictor",
    service_port=80,
    health=None,
    runtimes=(HUGGINGFACE, TRITON),
    # Each runtime's (`Runtime.metrics`).
    metrics=None,
    autoscaled=False,
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
