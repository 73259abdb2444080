"""GPU memory arithmetic: does one replica of a model fit the GPU (or MIG slice) it is given?

The memory-fit check and the `plan` verb share this module. Per GPU of a replica, vLLM needs

- **weights**: parameters x bytes per parameter (the dtype, or the weight quantization) divided
  by the tensor parallel size (vLLM shards every layer across the ranks);
- **KV cache**: room for at least one sequence of `--max-model-len` tokens, at the per-GPU KV
  size of the architecture (`facts.models.kv_cache_bytes_per_token_per_gpu`); vLLM refuses to
  start when the memory left after loading cannot hold one such sequence;
- **runtime margin**: `MARGIN_FIXED_GIB` (CUDA context, NCCL buffers, activations of the
  profiling run and CUDA graphs) plus `MARGIN_WEIGHTS_FRACTION` of the per-GPU weights
  (quantization scales, allocator fragmentation). This is aiplat-gen's stated estimate, not a
  figure vLLM publishes: it errs on the safe side for the dense models of `facts.models`.

All of that must fit in the device memory x `--gpu-memory-utilization`, which is the budget vLLM
takes for itself (it raises "Free memory on device ... is less than desired GPU memory
utilization" when less is free at start). The device memory is the product's nominal memory
(`facts.gpus`) or the MIG slice's; on a time-sliced GPU every pod that shares it claims its
utilization of the same memory, so the shares must add up to at most 1.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiplat_gen.platform.capacity import GPU_RESOURCE
from aiplat_gen.platform.facts.gpus import GPU_PRODUCTS, mig_resource_name
from aiplat_gen.platform.facts.models import (
    DTYPE_BYTES,
    KV_CACHE_DTYPE_BYTES,
    Architecture,
    kv_cache_bytes_per_token_per_gpu,
    weights_bytes,
)
from aiplat_gen.profile.schema.cluster import NodePool

GIB = 1024**3
MARGIN_FIXED_GIB = 1.0
"""Fixed runtime margin per GPU, in GiB."""
MARGIN_WEIGHTS_FRACTION = 0.05
"""Runtime margin per GPU as a fraction of the per-GPU weights."""


@dataclass(frozen=True)
class Device:
    """What one GPU of a replica is on a given pool: a whole GPU, a MIG slice or a shared GPU."""

    label: str
    """How messages name it: `h100-80gb`, `a100-80gb MIG 3g.40gb`."""
    resource: str
    """The extended resource a pod requests for it (`nvidia.com/gpu`, `nvidia.com/mig-1g.10gb`)."""
    memory_gib: float
    """Memory of the device: the GPU's, or the MIG slice's nominal memory."""
    per_node: int
    """How many of these devices one node advertises."""
    shared_by: int = 1
    """Pods that may share one physical GPU (time-slicing replicas), 1 otherwise."""
    mig: bool = False
    """Whether the device is a MIG slice."""


def device_for(pool: NodePool, mig_strategy: str) -> Device | None:
    """The device a pod on this pool gets per requested GPU; None for CPU pools or unknown
    products (the cluster checks report those)."""
    if pool.gpu is None:
        return None
    product = GPU_PRODUCTS.get(pool.gpu.product)
    if product is None:
        return None
    sharing = pool.gpu.sharing
    if sharing.mode == "mig":
        mig = product.mig_profiles.get(sharing.mig_profile or "")
        if mig is None:
            return None
        resource = GPU_RESOURCE if mig_strategy == "single" else mig_resource_name(mig)
        return Device(f"{product.key} MIG {mig.name}", resource, mig.memory_gib,
                      pool.gpu.count * mig.max_instances, mig=True)
    if sharing.mode == "time-slicing" and sharing.replicas:
        return Device(product.key, GPU_RESOURCE, product.memory_gib,
                      pool.gpu.count * sharing.replicas, shared_by=sharing.replicas)
    return Device(product.key, GPU_RESOURCE, product.memory_gib, pool.gpu.count)


@dataclass(frozen=True)
class MemoryFit:
    """The per-GPU memory a replica needs, against what its device offers."""

    device: Device
    utilization: float
    weights_gib: float
    kv_cache_gib: float
    margin_gib: float

    @property
    def needed_gib(self) -> float:
        """Weights + KV cache for one sequence + runtime margin, per GPU."""
        return self.weights_gib + self.kv_cache_gib + self.margin_gib

    @property
    def offered_gib(self) -> float:
        """Device memory x GPU memory utilization."""
        return self.device.memory_gib * self.utilization

    @property
    def fits(self) -> bool:
        """Whether the replica fits its device."""
        return self.needed_gib <= self.offered_gib

    @property
    def spare_gib(self) -> float:
        """What is left for more KV cache (negative when it does not fit)."""
        return self.offered_gib - self.needed_gib

    def describe(self) -> str:
        """`needs 140.2 GiB per GPU (weights 131.4 + KV cache 1.2 + margin 7.6) but l4 x 0.90
        offers 21.6 GiB`."""
        verdict = "but" if not self.fits else "and"
        return (f"needs {self.needed_gib:.1f} GiB per GPU (weights {self.weights_gib:.1f} + KV "
                f"cache {self.kv_cache_gib:.1f} + margin {self.margin_gib:.1f}) {verdict} "
                f"{self.device.label} x {self.utilization:.2f} offers {self.offered_gib:.1f} GiB")


def weight_bytes_key(dtype: str, quantization: str | None) -> str:
    """The `DTYPE_BYTES` key that sizes the weights: the quantization method if any, else the
    dtype."""
    return quantization or dtype


def kv_element_bytes(dtype: str, kv_cache_dtype: str) -> float:
    """Bytes per cached element: `--kv-cache-dtype`, or the activation dtype for `auto`."""
    if kv_cache_dtype == "auto":
        return DTYPE_BYTES[dtype]
    return KV_CACHE_DTYPE_BYTES[kv_cache_dtype]


def fit(*, parameters: int, dtype: str, quantization: str | None, kv_cache_dtype: str,
        architecture: Architecture | None, max_model_len: int | None,
        tensor_parallel_size: int, device: Device, utilization: float) -> MemoryFit:
    """The memory fit of one replica; without an architecture (or a max model length) the KV
    cache term is 0, which only makes the check more lenient."""
    weights = weights_bytes(parameters, weight_bytes_key(dtype, quantization))
    weights_gib = weights / tensor_parallel_size / GIB
    kv_gib = 0.0
    if architecture is not None and max_model_len:
        per_token = kv_cache_bytes_per_token_per_gpu(
            architecture, kv_element_bytes(dtype, kv_cache_dtype), tensor_parallel_size)
        kv_gib = per_token * max_model_len / GIB
    margin_gib = MARGIN_FIXED_GIB + MARGIN_WEIGHTS_FRACTION * weights_gib
    return MemoryFit(device, utilization, weights_gib, kv_gib, margin_gib)


def kv_cache_tokens(memory_fit: MemoryFit, architecture: Architecture, dtype: str,
                    kv_cache_dtype: str, tensor_parallel_size: int) -> int:
    """Tokens the KV cache of one replica can hold in the memory left after weights and margin
    (what vLLM reports as its KV cache size); 0 when nothing is left."""
    per_token = kv_cache_bytes_per_token_per_gpu(
        architecture, kv_element_bytes(dtype, kv_cache_dtype), tensor_parallel_size)
    left = memory_fit.offered_gib - memory_fit.weights_gib - memory_fit.margin_gib
    return max(0, int(left * GIB // per_token))


def total_weights_gib(parameters: int, dtype: str, quantization: str | None) -> float:
    """Size of the whole checkpoint's weights, in GiB (what the weights volume must hold)."""
    return weights_bytes(parameters, weight_bytes_key(dtype, quantization)) / GIB
