"""Sanity checks on the GPU and model fact tables: they catch a typo, not a change of fact."""

from __future__ import annotations

import dataclasses
import re

import pytest

from aiplat_gen.platform.facts.gpus import (
    GPU_PRODUCTS,
    GpuProduct,
    MigProfile,
    mig_resource_name,
    single_strategy_product_label,
)
from aiplat_gen.platform.facts.models import (
    ARCHITECTURES,
    DTYPE_BYTES,
    KV_CACHE_DTYPE_BYTES,
    Architecture,
    kv_cache_bytes_per_token,
    kv_cache_bytes_per_token_per_gpu,
    kv_heads_per_gpu,
    weights_bytes,
)

_KEY = re.compile(r"^[a-z0-9]+([.-][a-z0-9]+)*$")
_MIG_NAME = re.compile(r"^(?P<g>[0-9]+)g\.(?P<mem>[0-9]+)gb(\+me)?$")
GPUS = sorted(GPU_PRODUCTS.values(), key=lambda g: g.key)
MIG_GPUS = [g for g in GPUS if g.mig_capable]
ARCHS = sorted(ARCHITECTURES.values(), key=lambda a: a.key)


def test_required_gpu_keys_are_present() -> None:
    required = {"a100-40gb", "a100-80gb", "h100-80gb", "h200-141gb", "l4", "l40s", "a10g", "t4",
                "a30"}
    assert required <= set(GPU_PRODUCTS)


def test_mig_capable_gpus_are_exactly_the_mig_guide_ones() -> None:
    assert {g.key for g in MIG_GPUS} == {"a100-40gb", "a100-80gb", "h100-80gb", "h200-141gb",
                                         "a30"}


@pytest.mark.parametrize("gpu", GPUS, ids=lambda g: g.key)
def test_gpu_entry_is_consistent(gpu: GpuProduct) -> None:
    assert _KEY.match(gpu.key)
    assert GPU_PRODUCTS[gpu.key] is gpu
    assert gpu.memory_gib > 0
    assert gpu.source.strip()
    # A label value: no spaces (GFD turns them into '-'), at most 63 characters.
    assert re.match(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$", gpu.node_label_product)
    assert len(gpu.node_label_product) <= 63


@pytest.mark.parametrize("gpu", MIG_GPUS, ids=lambda g: g.key)
def test_mig_profiles_match_their_names_and_fit_the_gpu(gpu: GpuProduct) -> None:
    slices = gpu.mig_compute_slices
    assert slices in (4, 7)  # A30: quarters; A100/H100/H200: sevenths
    for name, profile in gpu.mig_profiles.items():
        assert profile.name == name
        match = _MIG_NAME.match(name)
        assert match, name
        assert profile.compute_slices == int(match["g"]), name
        assert profile.memory_gib == float(match["mem"]), name
        assert 0 < profile.memory_gib <= gpu.memory_gib, name
        assert profile.max_instances >= 1, name
        # Instances of one profile never need more compute slices than the GPU has.
        assert profile.compute_slices * profile.max_instances <= slices, name
        if profile.media_extensions:
            assert profile.max_instances == 1, name
            assert name.removesuffix("+me") in gpu.mig_profiles, name
    # The largest profile is the whole GPU: all slices, the GPU's memory, one instance.
    full = max(gpu.mig_profiles.values(), key=lambda p: p.compute_slices)
    assert full.memory_gib == gpu.memory_gib
    assert full.max_instances == 1
    # The smallest 1g profile fills every compute slice.
    smallest = min((p for p in gpu.mig_profiles.values() if p.compute_slices == 1),
                   key=lambda p: p.memory_gib)
    assert smallest.max_instances == slices


def test_non_mig_gpus_have_no_profiles() -> None:
    for key in ("l4", "l40s", "a10g", "t4"):
        assert dict(GPU_PRODUCTS[key].mig_profiles) == {}
        assert GPU_PRODUCTS[key].mig_compute_slices == 0


def test_a100_80gb_and_h100_80gb_share_the_profile_set() -> None:
    assert (set(GPU_PRODUCTS["a100-80gb"].mig_profiles)
            == set(GPU_PRODUCTS["h100-80gb"].mig_profiles)
            == {"1g.10gb", "1g.10gb+me", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"})


def test_known_labels() -> None:
    assert GPU_PRODUCTS["a100-80gb"].node_label_product == "NVIDIA-A100-SXM4-80GB"
    assert GPU_PRODUCTS["h100-80gb"].node_label_product == "NVIDIA-H100-80GB-HBM3"
    assert GPU_PRODUCTS["t4"].node_label_product == "Tesla-T4"


def test_mig_resource_name_mixed_strategy() -> None:
    a100 = GPU_PRODUCTS["a100-80gb"]
    assert mig_resource_name("1g.10gb") == "nvidia.com/mig-1g.10gb"
    assert mig_resource_name(a100.mig_profiles["3g.40gb"]) == "nvidia.com/mig-3g.40gb"
    assert mig_resource_name("1g.10gb+me") == "nvidia.com/mig-1g.10gb.me"
    assert single_strategy_product_label(a100, "1g.10gb") == "NVIDIA-A100-SXM4-80GB-MIG-1g.10gb"


def test_tables_are_read_only() -> None:
    with pytest.raises(TypeError):
        GPU_PRODUCTS["x"] = GPU_PRODUCTS["l4"]  # type: ignore[index]
    with pytest.raises(TypeError):
        GPU_PRODUCTS["a30"].mig_profiles["x"] = MigProfile("x", 1, 1.0, 1)  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        GPU_PRODUCTS["l4"].memory_gib = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        ARCHITECTURES["x"] = ARCHITECTURES["llama-3.1-8b"]  # type: ignore[index]
    assert hash(GPU_PRODUCTS["a30"]) == hash(GPU_PRODUCTS["a30"])


def test_required_architectures_are_present() -> None:
    required = {"llama-3.1-8b", "llama-3.1-70b", "llama-3.2-1b", "llama-3.2-3b",
                "mistral-7b-v0.3", "mixtral-8x7b", "qwen2.5-7b", "qwen2.5-14b", "qwen2.5-32b",
                "qwen2.5-72b", "gemma-2-9b", "gemma-2-27b", "phi-3-mini-4k"}
    assert required <= set(ARCHITECTURES)


@pytest.mark.parametrize("arch", ARCHS, ids=lambda a: a.key)
def test_architecture_entry_is_consistent(arch: Architecture) -> None:
    assert _KEY.match(arch.key)
    assert ARCHITECTURES[arch.key] is arch
    assert "/" in arch.hf_repo
    assert arch.hf_repo in arch.source
    assert 1e8 < arch.parameters < 1e12
    assert 1 <= arch.num_layers <= 200
    assert arch.head_dim in (64, 96, 128, 256)
    assert 1 <= arch.num_kv_heads <= 64
    assert arch.max_position_embeddings in (4_096, 8_192, 32_768, 131_072)
    # The size in a model's name is its parameter count, roughly ("1b" is 1.24e9).
    size = re.search(r"(?P<n>[0-9.]+)b$", arch.key)
    if size and "x" not in arch.key:
        assert abs(arch.parameters / 1e9 - float(size["n"])) / float(size["n"]) < 0.3


def test_kv_cache_llama_3_1_8b_bf16_is_128_kib_per_token() -> None:
    llama = ARCHITECTURES["llama-3.1-8b"]
    assert kv_cache_bytes_per_token(llama, DTYPE_BYTES["bfloat16"]) == 131_072
    assert kv_cache_bytes_per_token(llama, KV_CACHE_DTYPE_BYTES["fp8"]) == 65_536


def test_kv_cache_other_known_values() -> None:
    # Llama 3.1 70B: 2 x 80 x 8 x 128 x 2 = 320 KiB; Qwen2.5 7B: 2 x 28 x 4 x 128 x 2 = 56 KiB.
    assert kv_cache_bytes_per_token(ARCHITECTURES["llama-3.1-70b"], 2) == 327_680
    assert kv_cache_bytes_per_token(ARCHITECTURES["qwen2.5-7b"], 2) == 57_344
    # Gemma 2 9B has a 256-wide head: 2 x 42 x 8 x 256 x 2.
    assert kv_cache_bytes_per_token(ARCHITECTURES["gemma-2-9b"], 2) == 344_064


def test_kv_cache_per_gpu_splits_then_replicates_heads() -> None:
    llama70 = ARCHITECTURES["llama-3.1-70b"]
    whole = kv_cache_bytes_per_token(llama70, 2)
    assert kv_heads_per_gpu(llama70, 1) == 8
    assert kv_cache_bytes_per_token_per_gpu(llama70, 2, 4) == whole / 4
    assert kv_cache_bytes_per_token_per_gpu(llama70, 2, 8) == whole / 8
    # 16 ranks but 8 KV heads: each rank keeps one head (replicated), not half of one.
    assert kv_heads_per_gpu(llama70, 16) == 1
    assert kv_cache_bytes_per_token_per_gpu(llama70, 2, 16) == whole / 8
    with pytest.raises(ValueError):
        kv_heads_per_gpu(llama70, 0)


def test_dtype_bytes_use_vllm_names() -> None:
    assert DTYPE_BYTES["float16"] == DTYPE_BYTES["half"] == DTYPE_BYTES["bfloat16"] == 2
    assert DTYPE_BYTES["float32"] == DTYPE_BYTES["float"] == 4
    assert DTYPE_BYTES["fp8"] == 1
    assert DTYPE_BYTES["awq"] == DTYPE_BYTES["gptq"] == 0.5
    assert "auto" not in DTYPE_BYTES  # depends on the checkpoint; resolve before the lookup
    assert "bf16" not in DTYPE_BYTES  # not a vLLM spelling
    assert set(KV_CACHE_DTYPE_BYTES) == {"fp8", "fp8_e4m3", "fp8_e5m2"}


def test_weights_bytes() -> None:
    llama = ARCHITECTURES["llama-3.1-8b"]
    assert weights_bytes(llama.parameters, "bfloat16") == 16_060_522_496
    assert weights_bytes(8e9, "awq") == 4e9
    with pytest.raises(ValueError, match="unknown dtype"):
        weights_bytes(8e9, "int3")


def test_the_known_models_fit_where_operators_expect() -> None:
    # Llama 3.1 70B in bf16 (about 131 GiB of weights) does not fit one 80 GB GPU but does fit
    # one H200 141GB; in fp8 it fits one H100 80GB.
    gib = 2**30
    params = ARCHITECTURES["llama-3.1-70b"].parameters
    h100, h200 = GPU_PRODUCTS["h100-80gb"], GPU_PRODUCTS["h200-141gb"]
    assert weights_bytes(params, "bfloat16") / gib > h100.memory_gib
    assert weights_bytes(params, "bfloat16") / gib < h200.memory_gib
    assert weights_bytes(params, "fp8") / gib < h100.memory_gib
