"""Checks of the cluster layer: names, GPU products, sharing modes, quotas, priorities."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from aiplat_gen.core.errors import Diagnostic, Severity
from aiplat_gen.core.hints import did_you_mean, listed
from aiplat_gen.platform.capacity import GPU_RESOURCE, cluster_resources, pool_resources
from aiplat_gen.platform.facts.gpus import GPU_PRODUCTS, mig_resource_name
from aiplat_gen.platform.facts.instances import INSTANCE_TYPE_LABEL, INSTANCE_TYPES
from aiplat_gen.profile.locator import Loc, Locator
from aiplat_gen.profile.schema.profile import Profile

WARNING = Severity.WARNING


def _did_you_mean(value: str, choices: list[str]) -> str:
    return did_you_mean(value, choices)


def unique_names(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """Names must be unique within node pools, namespaces and priority classes."""
    spec = profile.spec
    groups: list[tuple[str, list[str]]] = [
        ("nodePools", [p.name for p in spec.node_pools]),
        ("namespaces", [n.name for n in spec.namespaces]),
        ("priorityClasses", [p.name for p in spec.priority_classes]),
    ]
    for field, names in groups:
        counts = Counter(names)
        for index, name in enumerate(names):
            if counts[name] > 1 and names.index(name) != index:
                yield at.diagnostic(("spec", field, index, "name"), f"duplicate name {name!r}",
                                    f"first used at {field}[{names.index(name)}]")


def gpu_products(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """Every GPU product must be one aiplat-gen knows (it needs its memory and MIG profiles)."""
    for index, pool in enumerate(profile.spec.node_pools):
        if pool.gpu and pool.gpu.product not in GPU_PRODUCTS:
            yield at.diagnostic(("spec", "nodePools", index, "gpu", "product"),
                                f"unknown GPU product {pool.gpu.product!r}",
                                _did_you_mean(pool.gpu.product, list(GPU_PRODUCTS)))


def instance_types(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """A GPU pool's instance types (Karpenter `instanceTypes`, or the node label
    `node.kubernetes.io/instance-type`) carry the pool's GPU product, as many per node as
    `gpu.count`; an instance type the table does not know is a warning."""
    for index, pool in enumerate(profile.spec.node_pools):
        if pool.gpu is None or pool.gpu.product not in GPU_PRODUCTS:
            continue
        loc = ("spec", "nodePools", index)
        named: list[tuple[tuple[str | int, ...], str]] = []
        if pool.karpenter is not None:
            named += [((*loc, "karpenter", "instanceTypes", i), name)
                      for i, name in enumerate(pool.karpenter.instance_types)]
        if INSTANCE_TYPE_LABEL in pool.labels:
            named.append(((*loc, "labels", INSTANCE_TYPE_LABEL), pool.labels[INSTANCE_TYPE_LABEL]))
        wanted = GPU_PRODUCTS[pool.gpu.product]
        for where, name in named:
            known = INSTANCE_TYPES.get(name)
            if known is None:
                yield at.diagnostic(where, f"instance type {name!r} is not in aiplat-gen's "
                                    "table: its GPU product and count are not checked",
                                    f"make sure it has {pool.gpu.count} x {wanted.display_name}",
                                    WARNING)
            elif known.product != wanted.key:
                matching = sorted(t.name for t in INSTANCE_TYPES.values()
                                  if t.product == wanted.key and t.gpus == pool.gpu.count)
                yield at.diagnostic(where, f"{name} has {known.gpus} x "
                                    f"{GPU_PRODUCTS[known.product].display_name}, not "
                                    f"{wanted.display_name} (gpu.product: {wanted.key})",
                                    ("instance types with " f"{pool.gpu.count} x {wanted.key}: "
                                     + listed(matching)) if matching else
                                    f"set gpu.product: {known.product}")
            elif known.gpus != pool.gpu.count:
                yield at.diagnostic(where, f"{name} has {known.gpus} GPUs per node, but "
                                    f"gpu.count is {pool.gpu.count}",
                                    f"set gpu.count: {known.gpus}, or pick a size with "
                                    f"{pool.gpu.count} GPUs")


def gpu_sharing(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """MIG needs a MIG-capable product and one of its profiles; time-slicing needs replicas."""
    for index, pool in enumerate(profile.spec.node_pools):
        if pool.gpu is None:
            continue
        sharing = pool.gpu.sharing
        loc = ("spec", "nodePools", index, "gpu", "sharing")
        product = GPU_PRODUCTS.get(pool.gpu.product)
        if sharing.mode == "mig":
            if product is not None and not product.mig_profiles:
                capable = sorted(k for k, p in GPU_PRODUCTS.items() if p.mig_profiles)
                yield at.diagnostic((*loc, "mode"),
                                    f"{product.display_name} does not support MIG",
                                    "MIG-capable products: " + ", ".join(capable))
            elif sharing.mig_profile is None:
                yield at.diagnostic((*loc, "mode"), "`mode: mig` needs `migProfile`",
                                    "e.g. migProfile: 1g.10gb")
            elif product is not None and sharing.mig_profile not in product.mig_profiles:
                yield at.diagnostic((*loc, "migProfile"),
                                    f"MIG profile {sharing.mig_profile!r} does not exist on "
                                    f"{product.display_name}",
                                    _did_you_mean(sharing.mig_profile, list(product.mig_profiles)))
        elif sharing.mig_profile is not None:
            yield at.diagnostic((*loc, "migProfile"), "`migProfile` needs `mode: mig`")
        if sharing.mode == "time-slicing":
            if sharing.replicas is None or sharing.replicas < 1:
                yield at.diagnostic((*loc, "replicas"),
                                    "time-slicing needs `replicas` > 0 (pods per GPU)",
                                    "e.g. replicas: 4")
            elif sharing.replicas == 1:
                yield at.diagnostic((*loc, "replicas"),
                                    "time-slicing with 1 replica shares nothing",
                                    "use mode: none, or replicas >= 2", WARNING)
        elif sharing.replicas is not None:
            yield at.diagnostic((*loc, "replicas"), "`replicas` needs `mode: time-slicing`")


def namespaces(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """Inference and data namespaces run `restricted`; the GPU Operator's is privileged."""
    operator_ns = profile.spec.gpu_operator.namespace
    for index, ns in enumerate(profile.spec.namespaces):
        loc = ("spec", "namespaces", index)
        if ns.name == operator_ns and profile.spec.gpu_operator.enabled:
            yield at.diagnostic((*loc, "name"),
                                f"{ns.name!r} is the GPU Operator namespace, which aiplat-gen "
                                "renders itself (Pod Security privileged)",
                                "remove it from namespaces or change gpuOperator.namespace")
        elif ns.purpose in ("inference", "data") and ns.pod_security != "restricted":
            yield at.diagnostic((*loc, "podSecurity"),
                                f"{ns.purpose} namespaces must enforce Pod Security `restricted`, "
                                f"not {ns.pod_security!r}",
                                "only the GPU Operator namespace runs privileged")
        if ns.name in ("default", "kube-system", "kube-public", "kube-node-lease"):
            yield at.diagnostic((*loc, "name"), f"{ns.name!r} is a Kubernetes system namespace",
                                "use a namespace of the platform's own")


def _offering(profile: Profile, resource: str) -> list[Loc]:
    """Where the node pools that offer a resource write how much: their nodes and GPUs per
    node (what a quota of that resource is compared with)."""
    strategy = profile.spec.gpu_operator.mig_strategy
    return [loc for k, pool in enumerate(profile.spec.node_pools)
            if resource in pool_resources(pool, strategy)
            for loc in (("spec", "nodePools", k, "nodes"),
                        ("spec", "nodePools", k, "gpu", "count"))]


def quotas(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """A GPU quota must be satisfiable by the node pools, and MIG quotas must name real slices.
    A quota compared with the pools is a relation, placed at whichever value the most-derived
    profile wrote."""
    offered = cluster_resources(profile)
    strategy = profile.spec.gpu_operator.mig_strategy
    mig_pools = {p.gpu.sharing.mig_profile for p in profile.spec.node_pools
                 if p.gpu and p.gpu.sharing.mode == "mig"}
    total_gpu_quota = 0
    quota_locs: list[Loc] = []
    for index, ns in enumerate(profile.spec.namespaces):
        if ns.quota is None:
            continue
        loc = ("spec", "namespaces", index, "quota")
        if ns.quota.gpus is not None:
            total_gpu_quota += ns.quota.gpus
            quota_locs.append((*loc, "gpus"))
            available = offered.get(GPU_RESOURCE, 0)
            if ns.quota.gpus > available:
                yield at.relation((*loc, "gpus"), _offering(profile, GPU_RESOURCE),
                                  f"quota of {ns.quota.gpus} GPUs exceeds the {available} "
                                  f"{GPU_RESOURCE} the node pools offer",
                                  "lower the quota or add GPU nodes")
        for profile_name, count in ns.quota.mig_devices.items():
            mloc = (*loc, "migDevices", profile_name)
            resource = mig_resource_name(profile_name)
            if strategy != "mixed":
                yield at.relation(mloc, [("spec", "gpuOperator", "migStrategy")],
                                  "MIG quotas per profile need `gpuOperator.migStrategy: mixed`",
                                  "with the single strategy MIG slices count as nvidia.com/gpu")
            elif profile_name not in mig_pools:
                yield at.diagnostic(mloc, f"no node pool is split into MIG profile "
                                    f"{profile_name!r}",
                                    _did_you_mean(profile_name, sorted(str(m) for m in mig_pools))
                                    if mig_pools else "no node pool uses MIG")
            elif count > offered.get(resource, 0):
                yield at.relation(mloc, _offering(profile, resource),
                                  f"quota of {count} x {profile_name} exceeds the "
                                  f"{offered.get(resource, 0)} slices the node pools offer")
    available = offered.get(GPU_RESOURCE, 0)
    if total_gpu_quota > available:
        # placed at a quota or a pool, not at the namespaces list: a list written in a child
        # profile takes the child's position whatever it changed
        yield at.relation(quota_locs[0], [*quota_locs[1:], *_offering(profile, GPU_RESOURCE)],
                          f"GPU quotas add up to {total_gpu_quota}, more than the {available} "
                          "GPUs the node pools offer (over-committed)",
                          "fine if not all namespaces peak at once", WARNING)


def priority_classes(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """Exactly one default class for inference and one for batch; at most one global default."""
    classes = profile.spec.priority_classes
    if not classes:
        return
    for role in ("inference", "batch"):
        holders = [i for i, c in enumerate(classes) if c.default_for == role]
        if not holders:
            yield at.diagnostic(("spec", "priorityClasses"),
                                f"no priority class is the default for {role} workloads",
                                f"set `defaultFor: {role}` on one class")
        for extra in holders[1:]:
            yield at.diagnostic(("spec", "priorityClasses", extra, "defaultFor"),
                                f"a second default for {role} workloads",
                                f"priorityClasses[{holders[0]}] is already the default")
    globals_ = [i for i, c in enumerate(classes) if c.global_default]
    for extra in globals_[1:]:
        yield at.diagnostic(("spec", "priorityClasses", extra, "globalDefault"),
                            "only one PriorityClass may be the global default")


def node_pool_taints(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """GPU pools should be tainted so CPU workloads never land on them; CPU pools must exist."""
    pools = profile.spec.node_pools
    for index, pool in enumerate(pools):
        if pool.gpu and not any(t.effect in ("NoSchedule", "NoExecute") for t in pool.taints):
            yield at.diagnostic(("spec", "nodePools", index, "taints"),
                                f"GPU pool {pool.name!r} has no NoSchedule taint, so CPU pods "
                                "may take its nodes", "add taint nvidia.com/gpu=present:NoSchedule",
                                WARNING)
    if not any(p.gpu is None for p in pools):
        yield at.diagnostic(("spec", "nodePools"), "no CPU node pool: workloads without GPUs "
                            "have nowhere to run", "add a pool without `gpu`")
