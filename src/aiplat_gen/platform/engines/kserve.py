"""KServe (`engine: kserve`): an InferenceService whose predictor runs the Hugging Face runtime
(vLLM backend) or Triton. KServe names the container, sets the probes and serves the predictor
behind `<name>-predictor` on port 80; aiplat-gen renders no monitor or autoscaler for it (KServe
scales its predictor itself)."""

from __future__ import annotations

from aiplat_gen.platform.engines import vllm
from aiplat_gen.platform.engines.base import EngineDescriptor, EnginePort, Runtime

HTTP = EnginePort("http", 8080)
HUGGINGFACE = Runtime("huggingface", llm=True, model_repository=False,
                      managed_flags=vllm.MANAGED_FLAGS | {"--model_name", "--model_dir",
                                                          "--max_model_len"},
                      # The runtime's vLLM backend loads the folder as `vllm serve` does.
                      hub_files=vllm.HUB_FILES)
TRITON = Runtime("triton", llm=False, model_repository=True, managed_flags=frozenset({
    "--model-control-mode", "--load-model", "--model-repository", "--model-store"}),
    hub_files=None)

KSERVE = EngineDescriptor(
    name="kserve",
    title="KServe",
    server_container="kserve-container",
    api_ports=(HTTP,),
    # Prometheus may reach the predictor's HTTP port; aiplat-gen writes no monitor for it.
    metrics_port=HTTP,
    metrics_path="/metrics",
    service_suffix="-predictor",
    service_port=80,
    health=None,
    api_prefix="/v1",
    chat_completions_path="/v1/chat/completions",
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
