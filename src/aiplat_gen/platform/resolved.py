"""The resolved view of a profile: every fact derived from several parts of it, computed once.

A model names its node pool, architecture and priority class; several checks, the renderers and
the `plan` report need what those names stand for: the pool itself, the device one of its GPUs is
(`memory.device_for`: a whole GPU, a MIG slice or a time-sliced share), the architecture, the
parameter count, the memory fit of one replica, the priority class it runs with. A data store
needs its pool (its own, or the profile's CPU pool) and the pods and storage it runs with.
`resolve` works them out once per profile object, so a check and the report that reads the same
fact cannot disagree.

The view is built for any schema-valid profile, including one the cross-layer checks reject: a
reference that names nothing resolves to None, for the checks to report; it never raises.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiplat_gen.core.memo import per_object
from aiplat_gen.platform.engines import runtime_of
from aiplat_gen.platform.facts.models import ARCHITECTURES, Architecture
from aiplat_gen.platform.memory import Device, MemoryFit, device_for, fit
from aiplat_gen.platform.scheduling import cpu_pool, pool_named
from aiplat_gen.profile.schema.cluster import NodePool
from aiplat_gen.profile.schema.data import Cache, DataStore, Storage, VectorDatabase
from aiplat_gen.profile.schema.profile import Profile
from aiplat_gen.profile.schema.secrets import Loc
from aiplat_gen.profile.schema.serving import Model

CACHE_SIZE = 32
"""Profiles whose resolved view is kept: a run validates, renders and plans a handful."""


def uses_llm_runtime(model: Model) -> bool:
    """vLLM itself, or KServe's Hugging Face runtime (vLLM backend)."""
    return runtime_of(model).llm


def parameters_of(model: Model) -> int | None:
    """The model's parameter count: given, or from its known architecture."""
    if model.parameters is not None:
        return model.parameters
    arch = ARCHITECTURES.get(model.architecture or "")
    return arch.parameters if arch else None


@dataclass(frozen=True)
class ResolvedModel:
    """One model with what its references stand for."""

    model: Model
    pool: NodePool | None
    """The node pool it names; None when no pool has that name (`checks.serving` reports it)."""
    device: Device | None
    """What one of its GPUs is on that pool; None without a pool, on a CPU pool, or for an
    unknown GPU product or MIG profile (the cluster checks report those)."""
    architecture: Architecture | None
    """Its known architecture; None when it names none or an unknown one."""
    parameters: int | None
    """Its parameter count: given, or its architecture's; None when neither is known."""
    memory: MemoryFit | None
    """The memory fit of one replica on its device, the one the `memory_fit` check judges and
    `plan` reports; None without a device or a parameter count."""
    priority_class: str | None
    """Its priority class, or the class that is the default for inference, if any."""

    @property
    def name(self) -> str:
        """The model's object name."""
        return self.model.name


@dataclass(frozen=True)
class ResolvedDataService:
    """One data store (a vector database or a cache) with its place and what it runs on."""

    loc: Loc
    """Where it is in the profile: `("spec", "vectorDatabases", 0)`, `("spec", "caches", 1)`."""
    store: VectorDatabase | Cache
    pods: int
    """Pods it runs in the cluster: 0 for a managed service, 1 for a single pgvector server."""
    pool: NodePool | None
    """Its `nodePool`, or the profile's first CPU pool; None when that does not exist
    (`checks.data` reports it)."""
    storage: Storage | None
    """The volume of each of its pods; None when it keeps no data in the cluster."""


@dataclass(frozen=True)
class ResolvedPlatform:
    """The resolved view of one profile (see the module documentation)."""

    profile: Profile
    models: tuple[ResolvedModel, ...]
    """Every model, in profile order."""
    data_services: tuple[ResolvedDataService, ...]
    """Every data store, vector databases first, in profile order."""
    pool_devices: dict[str, Device]
    """The device of each GPU pool with a known product, by pool name."""

    def model(self, model: Model) -> ResolvedModel:
        """The resolved view of one of the profile's models (the same object, not an equal
        one: duplicate names are possible until the checks refuse them)."""
        return next(r for r in self.models if r.model is model)

    def data_service(self, store: DataStore) -> ResolvedDataService:
        """The resolved view of one of the profile's data stores (the same object)."""
        return next(s for s in self.data_services if s.store is store)


def _model(profile: Profile, model: Model, default_class: str | None) -> ResolvedModel:
    pool = pool_named(profile, model.node_pool)
    device = device_for(pool, profile.spec.gpu_operator.mig_strategy) if pool else None
    arch = ARCHITECTURES.get(model.architecture) if model.architecture else None
    params = parameters_of(model)
    memory = None
    if device is not None and params is not None:
        # Triton takes no fixed share of the GPU: its models are measured against all of it.
        memory = fit(parameters=params, dtype=model.dtype, quantization=model.quantization,
                     kv_cache_dtype=model.kv_cache_dtype, architecture=arch,
                     max_model_len=model.max_model_len, tensor_parallel_size=model.gpus,
                     device=device,
                     utilization=model.gpu_memory_utilization if uses_llm_runtime(model)
                     else 1.0)
    return ResolvedModel(model, pool, device, arch, params, memory,
                         model.priority_class or default_class)


def _data_services(profile: Profile) -> list[ResolvedDataService]:
    def pool_of(store: VectorDatabase | Cache) -> NodePool | None:
        return pool_named(profile, store.node_pool) if store.node_pool else cpu_pool(profile)

    result = []
    for index, db in enumerate(profile.spec.vector_databases):
        pods = 0 if not db.runs_in_cluster else (
            1 if db.engine == "pgvector" and db.pgvector_settings.operator == "none"
            else db.replicas)
        result.append(ResolvedDataService(("spec", "vectorDatabases", index), db, pods,
                                          pool_of(db), db.storage if pods else None))
    for index, cache in enumerate(profile.spec.caches):
        result.append(ResolvedDataService(("spec", "caches", index), cache, 1, pool_of(cache),
                                          cache.storage))
    return result


def _build(profile: Profile) -> ResolvedPlatform:
    spec = profile.spec
    default_class = next((c.name for c in spec.priority_classes
                          if c.default_for == "inference"), None)
    strategy = spec.gpu_operator.mig_strategy
    devices = {p.name: d for p in spec.node_pools if (d := device_for(p, strategy)) is not None}
    return ResolvedPlatform(profile,
                            tuple(_model(profile, m, default_class) for m in spec.models),
                            tuple(_data_services(profile)), devices)


@per_object(CACHE_SIZE)
def resolve(profile: Profile) -> ResolvedPlatform:
    """The resolved view of a schema-valid profile, computed once per profile object (profiles
    are frozen, so the view cannot go stale)."""
    return _build(profile)
