"""Where workloads run: node selectors and tolerations derived from node pools.

Every node of a pool carries the label `ai.platform/node-pool: <pool>` (Karpenter pools get it
from their NodePool template; label static nodes yourself). A workload on a pool selects that
label and tolerates exactly the pool's taints, so CPU workloads, which select a CPU pool and
tolerate nothing, never land on tainted GPU nodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiplat_gen.profile.schema.cluster import NodePool
from aiplat_gen.profile.schema.profile import Profile

POOL_LABEL = "ai.platform/node-pool"
DEVICE_PLUGIN_CONFIG_LABEL = "nvidia.com/device-plugin.config"
MIG_CONFIG_LABEL = "nvidia.com/mig.config"


@dataclass(frozen=True)
class Placement:
    """The nodeSelector and tolerations of a pod placed on one pool."""

    node_selector: dict[str, str]
    tolerations: list[dict[str, Any]]


def node_labels(pool: NodePool) -> dict[str, str]:
    """Labels the pool's nodes carry: the pool label, GPU sharing selectors, and extras."""
    result = {POOL_LABEL: pool.name}
    if pool.gpu is not None:
        sharing = pool.gpu.sharing
        if sharing.mode == "time-slicing":
            result[DEVICE_PLUGIN_CONFIG_LABEL] = time_slicing_config_name(pool)
        elif sharing.mode == "mig" and sharing.mig_profile:
            result[MIG_CONFIG_LABEL] = f"all-{sharing.mig_profile}"
    result.update(pool.labels)
    return dict(sorted(result.items()))


def time_slicing_config_name(pool: NodePool) -> str:
    """The device-plugin config entry a time-sliced pool's nodes select by label."""
    return f"{pool.name}-time-slicing"


def placement(pool: NodePool) -> Placement:
    """nodeSelector and tolerations for a pod on this pool."""
    tolerations = [
        {k: v for k, v in (("key", t.key), ("operator", "Equal" if t.value else "Exists"),
                           ("value", t.value or None), ("effect", t.effect)) if v is not None}
        for t in pool.taints
    ]
    return Placement({POOL_LABEL: pool.name}, tolerations)


def cpu_pool(profile: Profile) -> NodePool | None:
    """The first pool without GPUs: where CPU-only workloads run."""
    return next((p for p in profile.spec.node_pools if p.gpu is None), None)


def pool_named(profile: Profile, name: str) -> NodePool | None:
    """The pool with this name, if any."""
    return next((p for p in profile.spec.node_pools if p.name == name), None)
