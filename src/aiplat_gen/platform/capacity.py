"""What node pools offer: GPU resources by resource name, used by checks, plans and renders."""

from __future__ import annotations

from collections import defaultdict

from aiplat_gen.platform.facts.gpus import GPU_PRODUCTS, mig_resource_name
from aiplat_gen.profile.schema.cluster import NodePool
from aiplat_gen.profile.schema.profile import Profile

GPU_RESOURCE = "nvidia.com/gpu"


def pool_resources(pool: NodePool, mig_strategy: str) -> dict[str, int]:
    """Extended resources one node of the pool advertises (e.g. {"nvidia.com/gpu": 8})."""
    if pool.gpu is None:
        return {}
    sharing = pool.gpu.sharing
    if sharing.mode == "time-slicing" and sharing.replicas:
        return {GPU_RESOURCE: pool.gpu.count * sharing.replicas}
    if sharing.mode == "mig" and sharing.mig_profile:
        product = GPU_PRODUCTS.get(pool.gpu.product)
        mig = product.mig_profiles.get(sharing.mig_profile) if product else None
        if mig is None:
            return {}
        slices = pool.gpu.count * mig.max_instances
        name = GPU_RESOURCE if mig_strategy == "single" else mig_resource_name(sharing.mig_profile)
        return {name: slices}
    return {GPU_RESOURCE: pool.gpu.count}


def cluster_resources(profile: Profile) -> dict[str, int]:
    """Extended resources summed over every node of every pool."""
    total: dict[str, int] = defaultdict(int)
    for pool in profile.spec.node_pools:
        for name, count in pool_resources(pool, profile.spec.gpu_operator.mig_strategy).items():
            total[name] += count * pool.nodes
    return dict(total)
