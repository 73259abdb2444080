"""KServe (`engine: kserve`): an InferenceService whose predictor runs the Hugging Face runtime
(vLLM backend) or Triton. KServe names the container, sets the probes and serves the predictor
behind `<name>-predictor` on port 80; aiplat-gen renders no monitor or autoscaler for it (KServe
scales its predictor itself)."""

from __future__ import annotations

from dataclasses import replace

from aiplat_gen.platform.engines import triton, vllm
from aiplat_gen.platform.engines.base import EngineDescriptor, EnginePort, Runtime

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
                      hub_files=vllm.HUB_FILES, api=HUGGINGFACE_API)
TRITON = Runtime("triton", llm=False, model_repository=True, managed_flags=frozenset({
    "--model-control-mode", "--load-model", "--model-repository", "--model-store"}),
    hub_files=None, api=triton.KSERVE_V2_API)

KSERVE = EngineDescriptor(
    name="kserve",
    title="KServe",
    server_container="kserve-container",
    api_ports=(HTTP,),
    # Not scraped (`platform.scraping`): the predictor container declares no port to monitor.
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
