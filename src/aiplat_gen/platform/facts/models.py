"""Model architectures and the byte sizes behind the memory-fit check.

A model replica needs GPU memory for its weights (`weights_bytes`) and for the KV cache vLLM
allocates per token (`kv_cache_bytes_per_token`). The architecture figures come from each model's
Hugging Face `config.json`: `num_hidden_layers`, `num_key_value_heads` and `head_dim` (or
`hidden_size / num_attention_heads` where the config has no `head_dim`). Parameter counts are the
exact totals those shapes give (embeddings, attention with any q/k/v bias, MLP or experts, norms,
and the LM head unless `tie_word_embeddings`); they match the published checkpoints (e.g. the
`total_size` of Llama-3.1-8B's bf16 `model.safetensors.index.json`, 16060522496 bytes, is
2 x 8030261248).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

DTYPE_BYTES: Mapping[str, float] = MappingProxyType({
    # vLLM `--dtype` choices (auto, half, float16, bfloat16, float, float32; `ModelDType` in
    # `vllm.config`). `auto` is left out: it means the checkpoint's `torch_dtype` (FP16 for FP32
    # and FP16 checkpoints, BF16 for BF16 ones), so callers resolve it first.
    "half": 2,
    "float16": 2,
    "bfloat16": 2,
    "float": 4,
    "float32": 4,
    # vLLM `--quantization` methods (QuantizationMethods in
    # vllm/model_executor/layers/quantization/__init__.py) with one storage width per weight.
    # fp8: 8-bit floating-point weights.
    "fp8": 1,
    # AWQ: vLLM accepts only 4-bit weights ("Currently, only 4-bit weight quantization is
    # supported for AWQ"); awq_marlin runs the same checkpoints with Marlin kernels.
    "awq": 0.5,
    "awq_marlin": 0.5,
    # GPTQ: vLLM also loads 2/3/8-bit GPTQ checkpoints; 0.5 is the common 4-bit case.
    "gptq": 0.5,
    "gptq_marlin": 0.5,
})
"""Bytes per parameter by vLLM dtype or quantization name. Quantized widths are a lower bound:
group scales and zero points add a few percent, and layers a method skips (often the embeddings
and LM head) stay in the activation dtype."""

KV_CACHE_DTYPE_BYTES: Mapping[str, float] = MappingProxyType({
    # vLLM `--kv-cache-dtype` choices besides `auto` (`CacheDType` in `vllm.config`). `auto` stores
    # the cache in the model's activation dtype (`--dtype`, never the weight quantization: an AWQ
    # model run with `--dtype half` keeps a 2-byte cache).
    "fp8": 1,
    "fp8_e4m3": 1,
    "fp8_e5m2": 1,
})
"""Bytes per cached element by explicit vLLM `--kv-cache-dtype`."""


@dataclass(frozen=True)
class Architecture:
    """The figures of one model that decide its GPU memory footprint."""

    key: str
    """Short name used in profiles (`llama-3.1-8b`)."""
    hf_repo: str
    """The Hugging Face repository the figures describe."""
    parameters: int
    """Total parameter count (all experts for a mixture of experts)."""
    num_layers: int
    """`num_hidden_layers`."""
    num_kv_heads: int
    """`num_key_value_heads` (equal to the attention heads for models without GQA)."""
    head_dim: int
    """`head_dim`, or `hidden_size / num_attention_heads` where the config has none."""
    max_position_embeddings: int
    """`max_position_embeddings`: the longest `--max-model-len` vLLM accepts without overrides."""
    source: str
    """Where the figures come from."""


def _hf(repo: str, fields: str) -> str:
    return (f"https://huggingface.co/{repo}/blob/main/config.json ({fields}); parameters "
            "derived from the config's tensor shapes")


_ARCHS = (
    Architecture(
        "llama-3.1-8b", "meta-llama/Llama-3.1-8B-Instruct", 8_030_261_248, 32, 8, 128, 131_072,
        _hf("meta-llama/Llama-3.1-8B-Instruct", "num_hidden_layers=32, num_key_value_heads=8, "
            "head_dim=128, max_position_embeddings=131072; safetensors total_size 16060522496 B "
            "in bf16"),
    ),
    Architecture(
        "llama-3.1-70b", "meta-llama/Llama-3.1-70B-Instruct", 70_553_706_496, 80, 8, 128,
        131_072,
        _hf("meta-llama/Llama-3.1-70B-Instruct", "num_hidden_layers=80, num_key_value_heads=8, "
            "hidden_size=8192 / num_attention_heads=64, max_position_embeddings=131072"),
    ),
    Architecture(
        "llama-3.2-1b", "meta-llama/Llama-3.2-1B-Instruct", 1_235_814_400, 16, 8, 64, 131_072,
        _hf("meta-llama/Llama-3.2-1B-Instruct", "num_hidden_layers=16, num_key_value_heads=8, "
            "head_dim=64, max_position_embeddings=131072, tie_word_embeddings=true"),
    ),
    Architecture(
        "llama-3.2-3b", "meta-llama/Llama-3.2-3B-Instruct", 3_212_749_824, 28, 8, 128, 131_072,
        _hf("meta-llama/Llama-3.2-3B-Instruct", "num_hidden_layers=28, num_key_value_heads=8, "
            "head_dim=128, max_position_embeddings=131072, tie_word_embeddings=true"),
    ),
    Architecture(
        "mistral-7b-v0.3", "mistralai/Mistral-7B-Instruct-v0.3", 7_248_023_552, 32, 8, 128,
        32_768,
        _hf("mistralai/Mistral-7B-Instruct-v0.3", "num_hidden_layers=32, num_key_value_heads=8, "
            "hidden_size=4096 / num_attention_heads=32, max_position_embeddings=32768"),
    ),
    Architecture(
        "mixtral-8x7b", "mistralai/Mixtral-8x7B-Instruct-v0.1", 46_702_792_704, 32, 8, 128,
        32_768,
        _hf("mistralai/Mixtral-8x7B-Instruct-v0.1", "num_hidden_layers=32, "
            "num_key_value_heads=8, hidden_size=4096 / num_attention_heads=32, "
            "num_local_experts=8, max_position_embeddings=32768"),
    ),
    Architecture(
        "qwen2.5-7b", "Qwen/Qwen2.5-7B-Instruct", 7_615_616_512, 28, 4, 128, 32_768,
        _hf("Qwen/Qwen2.5-7B-Instruct", "num_hidden_layers=28, num_key_value_heads=4, "
            "hidden_size=3584 / num_attention_heads=28, max_position_embeddings=32768; "
            "safetensors total_size 15231233024 B in bf16"),
    ),
    Architecture(
        "qwen2.5-14b", "Qwen/Qwen2.5-14B-Instruct", 14_770_033_664, 48, 8, 128, 32_768,
        _hf("Qwen/Qwen2.5-14B-Instruct", "num_hidden_layers=48, num_key_value_heads=8, "
            "hidden_size=5120 / num_attention_heads=40, max_position_embeddings=32768"),
    ),
    Architecture(
        "qwen2.5-32b", "Qwen/Qwen2.5-32B-Instruct", 32_763_876_352, 64, 8, 128, 32_768,
        _hf("Qwen/Qwen2.5-32B-Instruct", "num_hidden_layers=64, num_key_value_heads=8, "
            "hidden_size=5120 / num_attention_heads=40, max_position_embeddings=32768"),
    ),
    Architecture(
        "qwen2.5-72b", "Qwen/Qwen2.5-72B-Instruct", 72_706_203_648, 80, 8, 128, 32_768,
        _hf("Qwen/Qwen2.5-72B-Instruct", "num_hidden_layers=80, num_key_value_heads=8, "
            "hidden_size=8192 / num_attention_heads=64, max_position_embeddings=32768"),
    ),
    Architecture(
        "gemma-2-9b", "google/gemma-2-9b-it", 9_241_705_984, 42, 8, 256, 8_192,
        _hf("google/gemma-2-9b-it", "num_hidden_layers=42, num_key_value_heads=8, head_dim=256, "
            "max_position_embeddings=8192, sliding_window=4096 on alternate layers"),
    ),
    Architecture(
        "gemma-2-27b", "google/gemma-2-27b-it", 27_227_128_320, 46, 16, 128, 8_192,
        _hf("google/gemma-2-27b-it", "num_hidden_layers=46, num_key_value_heads=16, "
            "head_dim=128, max_position_embeddings=8192, sliding_window=4096 on alternate "
            "layers"),
    ),
    Architecture(
        "phi-3-mini-4k", "microsoft/Phi-3-mini-4k-instruct", 3_821_079_552, 32, 32, 96, 4_096,
        _hf("microsoft/Phi-3-mini-4k-instruct", "num_hidden_layers=32, num_key_value_heads=32, "
            "hidden_size=3072 / num_attention_heads=32, max_position_embeddings=4096"),
    ),
)

ARCHITECTURES: Mapping[str, Architecture] = MappingProxyType({a.key: a for a in _ARCHS})
"""Every known architecture by its profile key."""


def kv_cache_bytes_per_token(arch: Architecture, kv_dtype_bytes: float) -> float:
    """Bytes of KV cache one token occupies across the whole model (all GPUs together).

    vLLM's paged KV cache stores, for every layer, one key and one value vector per KV head:
    `2 (K and V) x num_layers x num_kv_heads x head_dim x kv_dtype_bytes` per token. This is the
    cache block size vLLM computes (block size x num_kv_heads x head_dim per K and V, times the
    layers, times the element size) divided by the tokens in a block. Llama 3.1 8B in bf16:
    2 x 32 x 8 x 128 x 2 = 131072 bytes (128 KiB) per token.

    `kv_dtype_bytes` is the cache element size: the activation dtype (`DTYPE_BYTES` of `--dtype`)
    for `--kv-cache-dtype auto`, else `KV_CACHE_DTYPE_BYTES`. Models with sliding-window layers
    (Gemma 2) are counted as if every layer kept the full context, which is an upper bound.
    """
    return 2 * arch.num_layers * arch.num_kv_heads * arch.head_dim * kv_dtype_bytes


def kv_heads_per_gpu(arch: Architecture, tensor_parallel_size: int) -> int:
    """KV heads each GPU holds with tensor parallelism: vLLM splits them across the ranks and
    replicates them when there are fewer heads than ranks, so every GPU keeps at least one
    (`ModelConfig.get_num_kv_heads`: `max(1, total_num_kv_heads // tensor_parallel_size)`)."""
    if tensor_parallel_size < 1:
        raise ValueError(f"tensor_parallel_size must be >= 1, got {tensor_parallel_size}")
    return max(1, arch.num_kv_heads // tensor_parallel_size)


def kv_cache_bytes_per_token_per_gpu(
    arch: Architecture, kv_dtype_bytes: float, tensor_parallel_size: int
) -> float:
    """KV cache bytes per token on each GPU of a tensor-parallel replica: the formula of
    `kv_cache_bytes_per_token` with `kv_heads_per_gpu` in place of the model's KV heads."""
    heads = kv_heads_per_gpu(arch, tensor_parallel_size)
    return 2 * arch.num_layers * heads * arch.head_dim * kv_dtype_bytes


def weights_bytes(parameters: float, dtype: str) -> float:
    """Bytes the weights of `parameters` parameters take in `dtype` (a `DTYPE_BYTES` name).

    `parameters x bytes per parameter`; for the quantized methods this is the lower bound
    described at `DTYPE_BYTES`. Raises `ValueError` for a name the table does not know.
    """
    try:
        per_parameter = DTYPE_BYTES[dtype]
    except KeyError:
        known = ", ".join(sorted(DTYPE_BYTES))
        raise ValueError(f"unknown dtype or quantization {dtype!r} (known: {known})") from None
    return parameters * per_parameter
