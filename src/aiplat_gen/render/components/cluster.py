"""Cluster layer: namespaces with Pod Security, quotas, limit ranges, priority classes, and
Karpenter NodePools.

- Every namespace enforces, audits and warns at its Pod Security level; the GPU Operator's
  namespace is the only `privileged` one.
- GPU quotas are written as `requests.nvidia.com/gpu` (and `requests.nvidia.com/mig-<profile>`)
  only: Kubernetes allows no `limits.` quota for extended resources.
- A pool with `provisioner: karpenter` gets a `karpenter.sh/v1` NodePool whose nodes carry the
  pool label, the GPU-sharing selector labels and the pool's taints, limited to the pool size.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from aiplat_gen.platform.facts.gpus import mig_resource_name
from aiplat_gen.platform.scheduling import node_labels
from aiplat_gen.profile.schema.cluster import LimitRange, NodePool, Quota
from aiplat_gen.render.components.base import RenderContext, Rendered, labels

COMPONENT = "cluster"
PSA_MODES = ("enforce", "audit", "warn")


def render(ctx: RenderContext) -> Rendered:
    """All cluster-layer objects for the profile."""
    profile = ctx.profile
    objects: list[dict[str, Any]] = []
    operator = profile.spec.gpu_operator
    if operator.enabled:
        objects += _namespace(ctx, operator.namespace, "privileged", {})
    for ns in profile.spec.namespaces:
        objects += _namespace(ctx, ns.name, ns.pod_security, ns.labels)
        if ns.quota is not None:
            objects += ctx.render("cluster/resourcequota.yaml.j2", name=f"{ns.name}-quota",
                                  namespace=ns.name, labels=_labels(ctx, f"{ns.name}-quota"),
                                  hard=quota_hard(ns.quota))
        if ns.limit_range is not None:
            objects += ctx.render("cluster/limitrange.yaml.j2", name=f"{ns.name}-limits",
                                  namespace=ns.name, labels=_labels(ctx, f"{ns.name}-limits"),
                                  limits=[_limit_range(ns.limit_range)])
    for pc in profile.spec.priority_classes:
        objects += ctx.render("cluster/priorityclass.yaml.j2", name=pc.name, value=pc.value,
                              preemption_policy=pc.preemption_policy,
                              global_default=pc.global_default,
                              description=pc.description or _priority_description(pc.default_for),
                              labels=_labels(ctx, pc.name))
    for pool in profile.spec.node_pools:
        if pool.provisioner == "karpenter":
            objects += _karpenter_pool(ctx, pool)
    return Rendered(objects=objects)


def _labels(ctx: RenderContext, name: str) -> dict[str, str]:
    return labels(ctx.profile, name, COMPONENT)


def _namespace(ctx: RenderContext, name: str, level: str,
               extra: dict[str, str]) -> list[dict[str, Any]]:
    ns_labels = _labels(ctx, name) | dict(extra)
    for mode in PSA_MODES:
        ns_labels[f"pod-security.kubernetes.io/{mode}"] = level
        ns_labels[f"pod-security.kubernetes.io/{mode}-version"] = "latest"
    return ctx.render("cluster/namespace.yaml.j2", name=name, labels=ns_labels)


def quota_hard(quota: Quota) -> dict[str, str]:
    """`spec.hard` of a ResourceQuota; extended resources appear under `requests.` only."""
    hard = quota.compute()
    if quota.gpus is not None:
        hard["requests.nvidia.com/gpu"] = str(quota.gpus)
    for profile_name, count in sorted(quota.mig_devices.items()):
        hard[f"requests.{mig_resource_name(profile_name)}"] = str(count)
    if quota.pods is not None:
        hard["pods"] = str(quota.pods)
    if quota.persistent_volume_claims is not None:
        hard["persistentvolumeclaims"] = str(quota.persistent_volume_claims)
    if quota.storage is not None:
        hard["requests.storage"] = quota.storage
    return hard


def _limit_range(limit: LimitRange) -> dict[str, Any]:
    return {"type": "Container", **limit.declared()}


def _priority_description(default_for: str | None) -> str:
    if default_for:
        return f"Default priority for {default_for} workloads of the platform."
    return "Priority class of the platform."


def _karpenter_pool(ctx: RenderContext, pool: NodePool) -> list[dict[str, Any]]:
    assert pool.karpenter is not None
    settings = pool.karpenter
    requirements: list[dict[str, Any]] = [
        {"key": "karpenter.sh/capacity-type", "operator": "In",
         "values": list(settings.capacity_types)},
    ]
    if settings.instance_types:
        requirements.append({"key": "node.kubernetes.io/instance-type", "operator": "In",
                             "values": list(settings.instance_types)})
    limits = {
        "cpu": _times(pool.cpu, pool.nodes),
        "memory": _times(pool.memory, pool.nodes),
    }
    if pool.gpu is not None:
        # Karpenter counts the physical GPUs of instance types, before MIG or time-slicing.
        limits["nvidia.com/gpu"] = str(pool.gpu.count * pool.nodes)
    taints = [{"key": t.key, **({"value": t.value} if t.value else {}), "effect": t.effect}
              for t in pool.taints]
    return ctx.render(
        "cluster/karpenter-nodepool.yaml.j2", name=pool.name, labels=_labels(ctx, pool.name),
        node_labels=node_labels(pool), requirements=requirements, taints=taints, limits=limits,
        node_class_ref=settings.node_class_ref.model_dump(by_alias=True),
        consolidate_after=settings.consolidate_after,
    )


def _times(quantity: str, factor: int) -> str:
    """Multiply a quantity, keeping its unit: `96` x 2 -> `192`, `1Ti` x 2 -> `2Ti`."""
    match = re.match(r"^\+?([0-9.]+)(.*)$", quantity)  # a quantity may start with `+`
    assert match is not None
    number = Decimal(match.group(1)) * factor
    text = format(number.normalize(), "f") if number != number.to_integral() else str(int(number))
    return text + match.group(2)

