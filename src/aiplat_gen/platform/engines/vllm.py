"""vLLM (`engine: vllm`): the OpenAI-compatible server of the `vllm/vllm-openai` image, metrics and
health on its HTTP port. Metric names and labels: `facts.metrics` (vLLM v0.11, V1 engine)."""

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
    WeightFiles,
)
from aiplat_gen.platform.facts.metrics import METRICS

HTTP = EnginePort("http", 8000)
MANAGED_FLAGS = frozenset({
    "--model", "--served-model-name", "--port", "--host", "--tensor-parallel-size", "-tp",
    "--max-model-len", "--gpu-memory-utilization", "--dtype", "--quantization", "-q",
    "--kv-cache-dtype", "--enable-lora", "--lora-modules", "--max-loras", "--max-lora-rank",
    "--download-dir", "--revision", "--otlp-traces-endpoint",
})
"""Flags of `vllm serve` aiplat-gen derives from the profile."""
HUB_FILES = WeightFiles(
    allow=("*.safetensors", "*.json", "*.model", "tokenizer.model.v*", "*.tiktoken", "*.txt",
           "*.jinja"),
    ignore=("original/*",))
"""What `vllm serve <folder>` reads from a Hub checkpoint: the safetensors shards (vLLM's
default loader takes `*.safetensors` when there are any, keeping those its
`model.safetensors.index.json` lists: `model_executor/model_loader/weight_utils.py`
`filter_duplicate_safetensors_files`), `config.json`, `generation_config.json` (the default
sampling parameters), the tokenizer files transformers loads (`tokenizer.json`,
`tokenizer_config.json`, `special_tokens_map.json`, sentencepiece `tokenizer.model` (Mistral's
`tokenizer.model.v3`), tiktoken
files, `vocab.json`/`merges.txt`/`vocab.txt`, `chat_template.jinja`) and the other small JSON
files next to them. Not downloaded: PyTorch `.bin`/`.pt`/`.pth` checkpoints (vLLM loads them
only when a repository has no safetensors at all: such repositories are not supported) and
the `original/` folder of Meta's Llama repositories (its consolidated `.pth` checkpoint is as
large as the weights; vLLM's own `LoadConfig.ignore_patterns` defaults to `original/**/*`,
`vllm/config/load.py`). Mistral repositories that carry both a `consolidated.safetensors` and
Hugging Face shards are downloaded with both (which one vLLM loads depends on
`--config-format`/`--load-format`), so their volume needs room for two copies."""
LORA_FILES = WeightFiles(allow=(
    "adapter_config.json", "adapter_model.safetensors", "adapter_model.bin", "adapter_model.pt",
    "new_embeddings.safetensors", "new_embeddings.bin"))
"""What vLLM reads from a LoRA adapter folder (`vllm/lora/models.py`
`LoRAModel.from_local_checkpoint`, v0.11: the PEFT config, the adapter tensors in safetensors,
`.bin` or `.pt`, and optional new embeddings)."""
OPENAI_API = ServedApi(
    # vLLM docs, "OpenAI-Compatible Server" (v0.11); routes of
    # vllm/entrypoints/openai/api_server.py (v0.11.0). `/v1/load_lora_adapter` is registered
    # only with VLLM_ALLOW_RUNTIME_LORA_UPDATING, which aiplat-gen never sets.
    protocol="openai",
    prefix="/v1",
    client_prefix="/v1",
    paths=("/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/models"),
    internal=("/health", "/metrics", "/ping", "/version", "/tokenize", "/detokenize",
              "/invocations"),
    chat_completions="/v1/chat/completions",
)
"""The OpenAI API of `vllm serve` (also what KServe's Hugging Face runtime wraps)."""
RUNTIME = Runtime("vllm", llm=True, model_repository=False, managed_flags=MANAGED_FLAGS,
                  hub_files=HUB_FILES, api=OPENAI_API)

SERIES = EngineMetrics(
    served_name_label="model_name",
    queue_depth=METRICS["vllm:num_requests_waiting"],
    queue_word="waiting",
    requests=METRICS["vllm:request_success_total"],
    running=METRICS["vllm:num_requests_running"],
    kv_cache_usage=METRICS["vllm:kv_cache_usage_perc"],
    latency=Timing(METRICS["vllm:e2e_request_latency_seconds"]),
    time_to_first_token=Timing(METRICS["vllm:time_to_first_token_seconds"]),
    queue_time=Timing(METRICS["vllm:request_queue_time_seconds"]),
    throughput=(("prompt tokens", METRICS["vllm:prompt_tokens_total"]),
                ("generated tokens", METRICS["vllm:generation_tokens_total"])),
    # HTTP 5xx answers of the API server (its requests, failed or not, by status class).
    errors=ErrorSignal(failed=METRICS["http_requests_total"],
                       failed_matchers=(("status", "=", "5xx"),),
                       total=METRICS["http_requests_total"], by_target=True),
)
"""The series of `vllm serve` aiplat-gen queries."""

VLLM = EngineDescriptor(
    name="vllm",
    title="vLLM",
    server_container="vllm",
    api_ports=(HTTP,),
    metrics_port=HTTP,
    metrics_path="/metrics",
    service_suffix="",
    workload_suffix="",
    service_port=HTTP.number,
    health=Probes(live="/health", ready="/health"),
    runtimes=(RUNTIME,),
    metrics=SERIES,
    autoscaled=True,
    lora=True,
    lora_files=LORA_FILES,
    object_store_weights=False,
    always_fetches_weights=False,
    per_replica_storage=True,
    controller=None,
    kserve_settings=False,
)
