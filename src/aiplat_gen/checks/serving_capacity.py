"""Capacity checks of the serving layer: tensor parallelism, GPU memory fit, GPU quotas and
pool capacity, and pod CPU/memory against nodes and quotas. Each message carries
the numbers that do not add up."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal

from aiplat_gen.checks.serving import WARNING
from aiplat_gen.core.errors import Diagnostic
from aiplat_gen.core.hints import listed
from aiplat_gen.platform.capacity import GPU_RESOURCE
from aiplat_gen.platform.facts.gpus import mig_resource_name
from aiplat_gen.platform.memory import Device
from aiplat_gen.platform.resolved import ResolvedModel, resolve, uses_llm_runtime
from aiplat_gen.platform.workload_resources import EPHEMERAL, LOG_ALLOWANCE, model_workload
from aiplat_gen.profile.locator import Loc, Locator
from aiplat_gen.profile.schema.cluster import NodePool
from aiplat_gen.profile.schema.profile import Profile
from aiplat_gen.profile.schema.serving import Model
from aiplat_gen.profile.schema.types import binary_quantity, parse_quantity

GIB = Decimal(1024**3)


def max_replicas(model: Model) -> int:
    """The most replicas a model can run: what quotas and pools must hold (an autoscaled
    model's `maxReplicas`)."""
    return model.autoscaling.max_replicas if model.autoscaling else model.replicas


def _on_gpus(profile: Profile) -> Iterator[tuple[int, ResolvedModel, NodePool, Device]]:
    """(index, model, pool, device) of each model whose pool and device resolve."""
    for i, resolved in enumerate(resolve(profile).models):
        if resolved.pool is not None and resolved.device is not None:
            yield i, resolved, resolved.pool, resolved.device


def tensor_parallel(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """GPUs per replica: a power of two for vLLM, within one node, whole GPUs only. A limit of
    the pool is a relation: placed at the pool's value or the model's `gpus`, whichever the
    most-derived profile wrote, naming the other."""
    for i, resolved, pool, device in _on_gpus(profile):
        model = resolved.model
        assert pool.gpu is not None
        loc = ("spec", "models", i, "gpus")
        gloc = (*pool_loc(profile, pool), "gpu")
        n = model.gpus
        if uses_llm_runtime(model) and n & (n - 1):
            yield at.diagnostic(loc, f"tensor parallel size {n} is not a power of two",
                                "vLLM splits attention heads evenly over the GPUs: use 1, 2, 4 "
                                "or 8")
        if n > 1 and device.mig:
            yield at.relation(loc, [(*gloc, "sharing", "mode")],
                              f"{n} GPUs per replica on {pool.name!r}, whose GPUs are "
                              f"split into MIG slices ({device.label}): tensor parallelism "
                              "across MIG slices is not supported",
                              "MIG slices have no NVLink or CUDA IPC between them: use gpus: 1"
                              " or a pool of whole GPUs")
        elif n > 1 and device.shared_by > 1:
            yield at.relation(loc, [(*gloc, "sharing", "replicas")],
                              f"{n} GPUs per replica on {pool.name!r}, which time-slices "
                              f"each GPU {device.shared_by} ways: the {n} shares may be one "
                              "physical GPU", "use gpus: 1 on time-sliced pools")
        elif n > pool.gpu.count:
            yield at.relation(loc, [(*gloc, "count")],
                              f"tensor parallel size {n} exceeds the {pool.gpu.count} "
                              f"GPUs of a {pool.name!r} node",
                              "a replica runs on one node: lower gpus or use bigger nodes")


def pool_loc(profile: Profile, pool: NodePool) -> Loc:
    """Where a node pool is written: `("spec", "nodePools", k)`."""
    pools = profile.spec.node_pools
    return ("spec", "nodePools", next(k for k, p in enumerate(pools) if p.name == pool.name))


def memory_fit(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """Weights / TP + KV cache for one sequence + margin fit the GPU (or slice) x utilization."""
    for i, resolved, pool, device in _on_gpus(profile):
        model = resolved.model
        loc = ("spec", "models", i)
        llm = uses_llm_runtime(model)
        if llm and device.shared_by > 1:
            total = device.shared_by * model.gpu_memory_utilization
            if total > 1:
                yield at.diagnostic(
                    (*loc, "gpuMemoryUtilization"),
                    f"{device.shared_by} pods share each {device.label} GPU of {pool.name!r} "
                    f"(time-slicing) and each claims {model.gpu_memory_utilization:.2f} of its "
                    f"memory: {device.shared_by} x {model.gpu_memory_utilization:.2f} = "
                    f"{total:.2f} > 1",
                    f"set gpuMemoryUtilization <= {1 / device.shared_by:.2f}, or use whole GPUs")
        result = resolved.memory
        if result is not None and not result.fits:
            yield at.diagnostic(loc, f"{model.name} {result.describe()}", _fit_hint(device))


def _fit_hint(device: Device) -> str:
    if device.mig:
        return "use a larger MIG profile, quantize or lower maxModelLen"
    if device.shared_by > 1:
        return "use whole GPUs, quantize or lower maxModelLen"
    return ("add GPUs (tensor parallel), quantize, lower maxModelLen or use a GPU with more "
            "memory")


def _demand(model: Model) -> int:
    return max_replicas(model) * model.gpus


def demand_locs(i: int, model: Model) -> list[Loc]:
    """Where the values a model's demand is made of are written: its (maximum) replicas and
    its GPUs per replica; a relation check names them and may be placed at one of them."""
    count: Loc = (("spec", "models", i, "autoscaling", "maxReplicas") if model.autoscaling
                  else ("spec", "models", i, "replicas"))
    return [count, ("spec", "models", i, "gpus")]


def gpu_quota(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """Per namespace, max replicas x GPUs per replica <= the GPU quota; per pool, <= what its
    nodes offer."""
    spec = profile.spec
    by_ns: dict[tuple[str, str], list[tuple[Model, int, int]]] = defaultdict(list)
    by_pool: dict[str, list[tuple[Model, int, int]]] = defaultdict(list)
    devices: dict[str, Device] = {}
    for i, resolved, pool, device in _on_gpus(profile):
        model = resolved.model
        devices[pool.name] = device
        demand = _demand(model)
        by_ns[(model.namespace, device.resource)].append((model, demand, i))
        by_pool[pool.name].append((model, demand, i))
    for j, ns in enumerate(spec.namespaces):
        if ns.quota is None:
            continue
        for (ns_name, resource), items in sorted(by_ns.items()):
            if ns_name != ns.name:
                continue
            loc: Loc
            if resource == GPU_RESOURCE:
                allowed, loc = ns.quota.gpus, ("spec", "namespaces", j, "quota", "gpus")
            else:
                profile_name = next((p for p in ns.quota.mig_devices
                                     if mig_resource_name(p) == resource), None)
                allowed = ns.quota.mig_devices.get(profile_name) if profile_name else None
                loc = ("spec", "namespaces", j, "quota", "migDevices", profile_name or "")
            total = sum(d for _, d, _ in items)
            if allowed is not None and total > allowed:
                yield at.relation(loc, _demand_locs(items),
                                  f"models in {ns.name!r} need {total} {resource} "
                                  f"({_breakdown(items)}) but the quota allows {allowed}",
                                  "raise the quota or lower replicas")
    for k, pool in enumerate(spec.node_pools):
        items = by_pool.get(pool.name, [])
        if not items:
            continue
        device = devices[pool.name]
        offered = device.per_node * pool.nodes
        total = sum(d for _, d, _ in items)
        if total > offered:
            yield at.relation(("spec", "nodePools", k, "nodes"), _demand_locs(items),
                              f"models on {pool.name!r} need {total} {device.resource} "
                              f"({_breakdown(items)}) but its {pool.nodes} node(s) offer "
                              f"{offered}", "add nodes or lower replicas")


def _demand_locs(items: list[tuple[Model, int, int]]) -> list[Loc]:
    return [loc for m, _, i in items for loc in demand_locs(i, m)]


def _breakdown(items: list[tuple[Model, int, int]]) -> str:
    return listed([f"{m.name} {max_replicas(m)} x {m.gpus}" for m, _, _ in items])


def pod_resources(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """Memory request <= limit; /dev/shm inside the limit; a replica fits a node (CPU, memory,
    ephemeral storage); replicas fit the namespace's CPU and memory quota
    (`checks.limit_ranges` compares the containers with the namespace's LimitRange). Each
    compares values that may be written in different profiles of the chain: a relation, placed
    at the one the most-derived profile wrote."""
    spec = profile.spec
    namespaces = {n.name: (j, n) for j, n in enumerate(spec.namespaces)}
    cpu_sum: dict[str, Decimal] = defaultdict(Decimal)
    mem_sum: dict[str, Decimal] = defaultdict(Decimal)
    cpu_locs: dict[str, list[Loc]] = defaultdict(list)
    mem_locs: dict[str, list[Loc]] = defaultdict(list)
    for i, resolved in enumerate(resolve(profile).models):
        model = resolved.model
        res = model.resources
        loc = ("spec", "models", i, "resources")
        memory = parse_quantity(res.memory)
        request = parse_quantity(res.memory_request) if res.memory_request else memory
        shm = parse_quantity(res.shm_size)
        if request > memory:
            yield at.relation((*loc, "memoryRequest"), [(*loc, "memory")],
                              f"memory request {res.memory_request} is above the memory "
                              f"limit {res.memory}", "Kubernetes refuses requests above limits")
        if shm >= memory:
            yield at.relation((*loc, "shmSize"), [(*loc, "memory")],
                              f"/dev/shm of {res.shm_size} leaves nothing of the {res.memory} "
                              "memory limit it is counted in",
                              "raise resources.memory or lower shmSize")
        elif shm * 2 > memory:
            yield at.relation((*loc, "shmSize"), [(*loc, "memory")],
                              f"/dev/shm of {res.shm_size} is more than half of the "
                              f"{res.memory} memory limit it is counted in",
                              "the server process gets the rest", WARNING)
        pool = resolved.pool
        if pool is not None:
            ploc = pool_loc(profile, pool)
            if memory > parse_quantity(pool.memory):
                yield at.relation((*loc, "memory"), [(*ploc, "memory")],
                                  f"{res.memory} does not fit on a {pool.name!r} node "
                                  f"({pool.memory} allocatable)")
            if parse_quantity(res.cpu) > parse_quantity(pool.cpu):
                yield at.relation((*loc, "cpu"), [(*ploc, "cpu")],
                                  f"{res.cpu} CPU does not fit on a {pool.name!r} node "
                                  f"({pool.cpu} allocatable)")
            disk = model_workload(profile, i, model).pod_requests().get(EPHEMERAL, Decimal(0))
            if disk > parse_quantity(pool.ephemeral_storage):
                yield at.relation(
                    (*loc, "homeSize"), [(*loc, "tmpSize"), (*ploc, "ephemeralStorage")],
                    f"a pod requests {binary_quantity(disk)} of ephemeral storage (HOME "
                    f"{res.home_size}, /tmp {res.tmp_size} and {LOG_ALLOWANCE} of logs), more "
                    f"than a {pool.name!r} node has ({pool.ephemeral_storage} allocatable): "
                    "the scheduler places none",
                    "lower resources.homeSize or tmpSize, or raise the pool's ephemeralStorage "
                    "(and its nodes' root volume)")
        found = namespaces.get(model.namespace)
        if found is None:
            continue
        _, ns = found
        count = demand_locs(i, model)[0]
        cpu_sum[ns.name] += parse_quantity(res.cpu) * max_replicas(model)
        mem_sum[ns.name] += memory * max_replicas(model)
        cpu_locs[ns.name] += [count, (*loc, "cpu")]
        mem_locs[ns.name] += [count, (*loc, "memory")]
    for name, (j, ns) in namespaces.items():
        quota = ns.quota
        if quota is None:
            continue
        qloc = ("spec", "namespaces", j, "quota")
        if quota.cpu is not None and cpu_sum[name] > parse_quantity(quota.cpu):
            yield at.relation((*qloc, "cpu"), cpu_locs[name], f"models in {name!r} request "
                              f"{_number(cpu_sum[name])} CPU but the quota allows {quota.cpu}",
                              "raise the quota or lower replicas")
        if quota.memory is not None and mem_sum[name] > parse_quantity(quota.memory):
            yield at.relation((*qloc, "memory"), mem_locs[name], f"models in {name!r} need "
                              f"{_number(mem_sum[name] / GIB)}Gi of memory but the quota "
                              f"allows {quota.memory}", "raise the quota or lower replicas")


def _number(value: Decimal) -> str:
    return str(int(value)) if value == value.to_integral() else f"{value:.1f}"
