"""`aiplat-gen plan`: what a profile asks of the cluster, before anything is applied.

For one validated profile the plan shows

- **models**: GPUs per replica, the replica bounds (`replicas`, or the autoscaler's
  `minReplicas`..`maxReplicas`) and the GPUs they request at min and at max;
- **memory fit** per model and GPU: the one `platform.resolved` computes and the memory-fit
  check judges (`memory.py`):
  weights / tensor parallel size, KV cache of one `maxModelLen` sequence, runtime margin, what
  they need, what the device offers (memory x `gpuMemoryUtilization`), the headroom, and how
  many tokens (and full-length sequences) the KV cache holds in the memory left;
- **namespaces**: GPUs requested at min and max against the namespace's GPU quota;
- **node pools**: GPUs requested at min and max against what the pool's nodes offer, the nodes
  the replicas need, and with `pricePerGpuHour` the cost per hour: every node of a static pool
  runs all the time, a Karpenter pool runs the nodes its replicas need;
- **warnings** where replicas cannot all be scheduled. Replicas are packed onto the pool's nodes
  largest first (GPUs, then memory and CPU requests), each replica on one node, counting what
  its pod requests as the scheduler does (ephemeral storage included); a replica that fits no
  node is reported with the numbers. This is the best case: the scheduler places pods as they
  come and spreads them, so a plan without warnings does not promise that every order of
  arrival fits, while a warning means no placement does at that size.

The same data prints as a table (rich on a terminal, plain text otherwise), as JSON and as
Markdown; `output/README.md` embeds the Markdown form for every environment.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from aiplat_gen.checks.selection import select, validate_many
from aiplat_gen.core.errors import Diagnostic
from aiplat_gen.core.settings import Settings
from aiplat_gen.platform.capacity import GPU_RESOURCE
from aiplat_gen.platform.facts.gpus import mig_resource_name
from aiplat_gen.platform.memory import Device, kv_cache_tokens
from aiplat_gen.platform.resolved import ResolvedModel, resolve
from aiplat_gen.platform.workload_resources import EPHEMERAL, model_workload
from aiplat_gen.profile.schema.cluster import NodePool
from aiplat_gen.profile.schema.profile import Profile
from aiplat_gen.profile.schema.serving import Model
from aiplat_gen.profile.schema.types import binary_quantity, parse_quantity

FORMATS = ("text", "json", "markdown")
GIB = Decimal(1024**3)


@dataclass(frozen=True)
class MemoryPlan:
    """The memory-fit arithmetic of one replica, per GPU, in GiB."""

    device: str
    utilization: float
    weights_gib: float
    kv_cache_gib: float
    margin_gib: float
    needed_gib: float
    available_gib: float
    headroom_gib: float
    kv_cache_tokens: int | None
    """Tokens the KV cache holds in the memory left after weights and margin (None without a
    known architecture)."""
    full_sequences: int | None
    """How many `maxModelLen` sequences those tokens are (None without maxModelLen)."""


@dataclass(frozen=True)
class ModelPlan:
    """One model's GPUs and replica bounds."""

    name: str
    engine: str
    namespace: str
    node_pool: str
    device: str
    resource: str
    gpus_per_replica: int
    min_replicas: int
    max_replicas: int
    autoscaled: bool
    gpus_at_min: int
    gpus_at_max: int
    memory: MemoryPlan | None
    """None when the parameter count is unknown (no architecture or `parameters`)."""


@dataclass(frozen=True)
class NamespacePlan:
    """GPUs of one resource requested in a namespace, against its quota."""

    name: str
    resource: str
    quota: int | None
    at_min: int
    at_max: int


@dataclass(frozen=True)
class PoolPlan:
    """A GPU pool: what it offers, what the models request, the nodes and cost that takes."""

    name: str
    device: str
    resource: str
    provisioner: str
    nodes: int
    per_node: int
    offered: int
    at_min: int
    at_max: int
    nodes_at_min: int
    nodes_at_max: int
    price_per_gpu_hour: float | None
    cost_at_min: float | None
    cost_at_max: float | None


@dataclass(frozen=True)
class Plan:
    """Everything `plan` reports for one profile."""

    profile: str
    platform: str
    version: str
    kubernetes_version: str
    models: tuple[ModelPlan, ...]
    namespaces: tuple[NamespacePlan, ...]
    pools: tuple[PoolPlan, ...]
    warnings: tuple[str, ...]

    @property
    def cost_at_min(self) -> float | None:
        """Cost per hour of the priced pools at min replicas (None when no pool has a price)."""
        costs = [p.cost_at_min for p in self.pools if p.cost_at_min is not None]
        return round(sum(costs), 2) if costs else None

    @property
    def cost_at_max(self) -> float | None:
        """Cost per hour of the priced pools at max replicas (None when no pool has a price)."""
        costs = [p.cost_at_max for p in self.pools if p.cost_at_max is not None]
        return round(sum(costs), 2) if costs else None

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON-ready data (GiB and prices rounded to 2 decimals)."""
        data = asdict(self)
        data["cost_at_min"] = self.cost_at_min
        data["cost_at_max"] = self.cost_at_max
        return data


def replica_bounds(model: Model) -> tuple[int, int]:
    """(fewest, most) replicas a model runs: the autoscaler's bounds, or `replicas` twice."""
    if model.autoscaling is not None:
        return model.autoscaling.min_replicas, model.autoscaling.max_replicas
    return model.replicas, model.replicas


def _round(value: float) -> float:
    return round(value, 2)


def _memory(resolved: ResolvedModel) -> MemoryPlan | None:
    """The resolved memory fit (the one the `memory_fit` check judges), rounded for the plan,
    with the KV cache it leaves room for."""
    result, model, arch = resolved.memory, resolved.model, resolved.architecture
    if result is None:
        return None
    tokens = sequences = None
    if arch is not None:
        tokens = kv_cache_tokens(result, arch, model.dtype, model.kv_cache_dtype, model.gpus)
        if model.max_model_len:
            sequences = tokens // model.max_model_len
    return MemoryPlan(result.device.label, result.utilization, _round(result.weights_gib),
                      _round(result.kv_cache_gib), _round(result.margin_gib),
                      _round(result.needed_gib), _round(result.offered_gib),
                      _round(result.spare_gib), tokens, sequences)


@dataclass(frozen=True)
class _Replica:
    model: str
    gpus: int
    cpu: Decimal
    memory: Decimal
    disk: Decimal  # ephemeral-storage


@dataclass
class _Node:
    gpus: int
    cpu: Decimal
    memory: Decimal
    disk: Decimal

    def takes(self, replica: _Replica) -> bool:
        return (replica.gpus <= self.gpus and replica.cpu <= self.cpu
                and replica.memory <= self.memory and replica.disk <= self.disk)

    def place(self, replica: _Replica) -> None:
        self.gpus -= replica.gpus
        self.cpu -= replica.cpu
        self.memory -= replica.memory
        self.disk -= replica.disk


def pack(replicas: list[_Replica], pool: NodePool, per_node: int
         ) -> tuple[list[_Node], list[_Replica]]:
    """Place replicas on the pool's nodes, largest first, each on the first node with room;
    returns the nodes used and the replicas that fit none."""
    order = sorted(replicas, key=lambda r: (-r.gpus, -r.memory, -r.cpu, r.model))
    used: list[_Node] = []
    left: list[_Replica] = []
    for replica in order:
        node = next((n for n in used if n.takes(replica)), None)
        if node is None and len(used) < pool.nodes:
            fresh = _Node(per_node, parse_quantity(pool.cpu), parse_quantity(pool.memory),
                          parse_quantity(pool.ephemeral_storage))
            if fresh.takes(replica):
                used.append(fresh)
                node = fresh
        if node is None:
            left.append(replica)
        else:
            node.place(replica)
    return used, left


def _replicas(profile: Profile, index: int, model: Model, count: int) -> list[_Replica]:
    """`count` replicas of a model, with what one pod requests as the scheduler counts it."""
    pod = model_workload(profile, index, model).pod_requests()
    return [_Replica(model.name, model.gpus, pod["cpu"], pod["memory"],
                     pod.get(EPHEMERAL, Decimal(0)))] * count


def _gib(value: Decimal) -> str:
    number = value / GIB
    return f"{int(number)}Gi" if number == number.to_integral() else f"{number:.1f}Gi"


def _cpu(value: Decimal) -> str:
    return str(int(value)) if value == value.to_integral() else f"{value:.1f}"


def _unplaced_warning(pool: NodePool, device: Device, at: str, left: list[_Replica],
                      nodes: list[_Node], total: int) -> str:
    counts: dict[str, int] = {}
    for replica in left:
        counts[replica.model] = counts.get(replica.model, 0) + 1
    who = ", ".join(f"{n} of {name}" for name, n in sorted(counts.items()))
    first = left[0]
    free = sum(n.gpus for n in nodes)
    return (f"{pool.name}: at {at} replicas {len(left)} of {total} replica(s) cannot be "
            f"scheduled ({who}): a {first.model} replica requests {first.gpus} "
            f"{device.resource}, {_cpu(first.cpu)} CPU, {_gib(first.memory)} and "
            f"{binary_quantity(first.disk)} of ephemeral storage, and none of the "
            f"{pool.nodes} node(s) "
            f"({device.per_node} {device.resource}, {pool.cpu} CPU, {pool.memory}, "
            f"{pool.ephemeral_storage} ephemeral storage each; {free} {device.resource} left "
            "free) has room for it")


def _pack_pool(profile: Profile, pool: NodePool, device: Device, at: str
               ) -> tuple[list[_Replica], list[_Node], list[_Replica]]:
    """(replicas of the pool's models at min or max, nodes used, replicas that fit none)."""
    index = 0 if at == "min" else 1
    replicas = [r for i, m in enumerate(profile.spec.models) if m.node_pool == pool.name
                for r in _replicas(profile, i, m, replica_bounds(m)[index])]
    nodes, left = pack(replicas, pool, device.per_node)
    return replicas, nodes, left


def unplaced(profile: Profile) -> dict[tuple[str, str], int]:
    """Per (GPU pool, `min` or `max`): how many model replicas no node has room for, as the
    plan packs them (what `simulate` holds the scheduler to)."""
    devices = resolve(profile).pool_devices
    result: dict[tuple[str, str], int] = {}
    for pool in profile.spec.node_pools:
        device = devices.get(pool.name)
        if device is None or pool.gpu is None:
            continue
        for at in ("min", "max"):
            result[(pool.name, at)] = len(_pack_pool(profile, pool, device, at)[2])
    return result


def build_plan(profile: Profile) -> Plan:
    """The plan of a validated profile (see the module documentation)."""
    spec = profile.spec
    resolved = resolve(profile)
    devices = resolved.pool_devices
    models: list[ModelPlan] = []
    for found in resolved.models:
        model, device = found.model, found.device
        if device is None:
            continue
        low, high = replica_bounds(model)
        models.append(ModelPlan(
            model.name, model.engine, model.namespace, model.node_pool, device.label,
            device.resource, model.gpus, low, high, model.autoscaling is not None,
            low * model.gpus, high * model.gpus, _memory(found)))
    namespaces = _namespaces(profile, models)
    pools: list[PoolPlan] = []
    warnings: list[str] = []
    for pool in spec.node_pools:
        device = devices.get(pool.name)
        if device is None or pool.gpu is None:
            continue
        mine = [m for m in spec.models if m.node_pool == pool.name]
        needed: dict[str, int] = {}
        same = all(replica_bounds(m)[0] == replica_bounds(m)[1] for m in mine)
        for at in ("min", "max"):
            replicas, nodes, left = _pack_pool(profile, pool, device, at)
            needed[at] = len(nodes)
            if left and not (same and at == "max"):  # equal bounds: one warning says it all
                warnings.append(_unplaced_warning(pool, device, "min and max" if same else at,
                                                  left, nodes, len(replicas)))
        at_min = sum(m.gpus_at_min for m in models if m.node_pool == pool.name)
        at_max = sum(m.gpus_at_max for m in models if m.node_pool == pool.name)
        price = pool.price_per_gpu_hour
        cost_min = cost_max = None
        if price is not None:
            static = pool.provisioner == "static"
            cost_min = _round((pool.nodes if static else needed["min"]) * pool.gpu.count * price)
            cost_max = _round((pool.nodes if static else needed["max"]) * pool.gpu.count * price)
        pools.append(PoolPlan(
            pool.name, device.label, device.resource, pool.provisioner, pool.nodes,
            device.per_node, device.per_node * pool.nodes, at_min, at_max, needed["min"],
            needed["max"], price, cost_min, cost_max))
    for ns in namespaces:
        if ns.quota is not None and ns.at_max > ns.quota:
            warnings.append(f"{ns.name}: {ns.at_max} {ns.resource} at max replicas but the "
                            f"quota allows {ns.quota}")
    return Plan(profile.metadata.name, spec.platform.name, spec.platform.version,
                spec.kubernetes_version, tuple(models), tuple(namespaces), tuple(pools),
                tuple(warnings))


def _namespaces(profile: Profile, models: list[ModelPlan]) -> list[NamespacePlan]:
    result: list[NamespacePlan] = []
    for ns in profile.spec.namespaces:
        mine = [m for m in models if m.namespace == ns.name]
        quota = ns.quota
        resources = {m.resource for m in mine}
        if quota is not None and quota.gpus is not None:
            resources.add(GPU_RESOURCE)
        mig_quota = {mig_resource_name(p): n for p, n in quota.mig_devices.items()} if quota else {}
        resources.update(mig_quota)
        for resource in sorted(resources):
            allowed = None
            if quota is not None:
                allowed = quota.gpus if resource == GPU_RESOURCE else mig_quota.get(resource)
            result.append(NamespacePlan(
                ns.name, resource, allowed,
                sum(m.gpus_at_min for m in mine if m.resource == resource),
                sum(m.gpus_at_max for m in mine if m.resource == resource)))
    return result


def plan_profile(ref: str, settings: Settings) -> tuple[Plan, tuple[Diagnostic, ...]]:
    """Validate one profile (name or path) and plan it; returns the plan and the profile's
    validation warnings. An invalid profile raises ProfileError with every diagnostic."""
    (validated,) = validate_many(select([ref], False, settings))
    return build_plan(validated.profile), validated.warnings
