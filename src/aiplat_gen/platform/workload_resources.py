"""The containers the platform runs in its namespaces, with their CPU and memory requests and
limits: one fact, written into the pods by the components and compared with the namespaces'
LimitRanges and ResourceQuotas by the checks.

Per workload (in pod order, init containers first):

- **model** (vLLM, Triton, KServe predictor): the server container (`vllm`, `triton`, or KServe's
  `kserve-container`) requests `resources.cpu` and `resources.memoryRequest` (default
  `resources.memory`), limits memory to `resources.memory`, and asks for its GPUs in requests and
  limits; it sets no CPU limit. Models with Hub weights or LoRA adapters (and every KServe
  predictor) get their weights from a weights Job (`weights_job`): the server pod's init
  container `wait-weights` only waits for the Job's marker (50m CPU and 64Mi memory requested,
  64Mi memory limit). With per-replica volumes (`storage.perReplica`), which no Job can fill,
  the init container `fetch-weights` downloads in the server pod itself, with the server's CPU
  and memory and no GPUs.
- **weights job** (one per model with a weights Job): its `fetch-weights` container requests
  1 CPU and 2Gi memory, with a 2Gi memory limit (the download streams to disk; hashing reads
  16 MiB blocks in up to 32 threads).
- **vector database**: Weaviate's `weaviate` and pgvector's `postgres` request `resources.cpu`
  and `resources.memory`, with a memory limit of `resources.memory` and a CPU limit only with
  `resources.cpuLimit`. CloudNativePG gives those resources to the instance's `postgres`
  container and to its `bootstrap-controller` init container (its initdb and join Jobs too).
- **cache**: Redis's `redis` like a vector database, and the `exporter` sidecar (50m CPU and
  64Mi memory requested, 64Mi memory limit).

Local ephemeral storage (Kubernetes docs, "Resource Management for Pods and Containers", Local
ephemeral storage, v1.33): the kubelet counts a pod's disk-backed emptyDirs, its containers'
writable layers and their logs. An emptyDir over its `sizeLimit`, a container over its
`ephemeral-storage` limit (writable layer and logs), or a pod over the sum of its containers'
limits (all of it) is evicted; the scheduler places the pod on its `ephemeral-storage` requests.
So every disk-backed emptyDir has a `sizeLimit`, and every container requests and limits
`ephemeral-storage` = the size limits of the disk-backed emptyDirs it mounts + `LOG_ALLOWANCE`
(root file systems are read-only, so the writable layer stays empty): the pod's effective request
(the sum over its containers, or its largest init container) then covers every emptyDir it
writes, and the node keeps that room. Memory-backed emptyDirs (`/dev/shm`) count in memory
instead. Model scratch sizes are `resources.tmpSize` / `resources.homeSize`; data stores use
the constants below. CloudNativePG sizes its own pods' scratch volumes
(`ephemeralVolumesSizeLimit`), so its `Cluster` resources get no ephemeral-storage entry.

KServe in Knative mode adds Knative's `queue-proxy` sidecar, which is Knative's to size and not
listed here. Pinecone runs nothing in the cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aiplat_gen.platform.engines import descriptor
from aiplat_gen.platform.memory import Device
from aiplat_gen.platform.resolved import resolve
from aiplat_gen.profile.schema.data import Cache, DataResources, VectorDatabase
from aiplat_gen.profile.schema.profile import Profile
from aiplat_gen.profile.schema.secrets import Loc
from aiplat_gen.profile.schema.serving import Model
from aiplat_gen.profile.schema.types import parse_quantity

FETCH_WEIGHTS = "fetch-weights"
WAIT_WEIGHTS = "wait-weights"
WAIT_REQUESTS = {"cpu": "50m", "memory": "64Mi"}
WAIT_LIMITS = {"memory": "64Mi"}
JOB_FETCH_REQUESTS = {"cpu": "1", "memory": "2Gi"}
JOB_FETCH_LIMITS = {"memory": "2Gi"}
CNPG_BOOTSTRAP = "bootstrap-controller"
REDIS_EXPORTER_REQUESTS = {"cpu": "50m", "memory": "64Mi"}
REDIS_EXPORTER_LIMITS = {"memory": "64Mi"}
EPHEMERAL = "ephemeral-storage"
LOG_ALLOWANCE = "256Mi"
"""Room for a container's logs: the kubelet rotates them at `containerLogMaxSize` (10Mi) and
keeps `containerLogMaxFiles` (5) files by default (KubeletConfiguration v1beta1, v1.33)."""
REDIS_SCRATCH_SIZE = "256Mi"
POSTGRES_RUN_SIZE = "64Mi"
"""`/var/run/postgresql` holds the socket and lock files only."""
POSTGRES_TMP_SIZE = "1Gi"
"""`/tmp` of a plain PostgreSQL (sorts spill into `base/pgsql_tmp` on the data volume)."""


@dataclass(frozen=True)
class Container:
    """One container of a workload's pod and the resources it asks for."""

    name: str
    init: bool
    requests: dict[str, str]
    limits: dict[str, str]

    def scratch(self) -> Decimal:
        """The `ephemeral-storage` it requests, in bytes (0 when it sets none)."""
        return parse_quantity(self.requests.get(EPHEMERAL, "0"))

    def resources(self) -> dict[str, Any]:
        """The container's `resources` as rendered (fresh dicts, requests first)."""
        return {"requests": dict(self.requests), "limits": dict(self.limits)}

    @property
    def label(self) -> str:
        """How messages name it: `vllm`, `init container fetch-weights`."""
        return f"init container {self.name}" if self.init else self.name


@dataclass(frozen=True)
class Workload:
    """A workload of the platform: where its profile entry is, and its pod's containers."""

    kind: str
    """`model`, `weights job`, `vector database` or `cache`."""
    name: str
    namespace: str
    loc: Loc
    """The profile entry, e.g. ("spec", "models", 0)."""
    containers: tuple[Container, ...]

    @property
    def label(self) -> str:
        """How messages name it: `model 'llama-8b'`."""
        return f"{self.kind} {self.name!r}"

    def pod_requests(self) -> dict[str, Decimal]:
        """What one pod requests, as the scheduler and ResourceQuota count it: per resource,
        the sum over the containers or the largest init container, whichever is more."""
        total: dict[str, Decimal] = {}
        for c in self.containers:
            if not c.init:
                for r, q in c.requests.items():
                    total[r] = total.get(r, Decimal(0)) + parse_quantity(q)
        for c in self.containers:
            if c.init:
                for r, q in c.requests.items():
                    total[r] = max(total.get(r, Decimal(0)), parse_quantity(q))
        return total


def ephemeral_storage(*scratch: str) -> str:
    """`ephemeral-storage` of a container that mounts disk-backed emptyDirs of these size
    limits: their sum plus `LOG_ALLOWANCE`, in whole MiB."""
    total = sum((parse_quantity(q) for q in (*scratch, LOG_ALLOWANCE)), Decimal(0))
    return f"{-(-int(total) // 2**20)}Mi"


def model_scratch(model: Model) -> tuple[str, str]:
    """Size limits of a model pod's `/tmp` and HOME emptyDirs."""
    return model.resources.tmp_size, model.resources.home_size


def model_server(model: Model, device: Device | None) -> Container:
    """The model server container: CPU request, memory request and limit, GPUs (on a known
    device) in requests and limits, ephemeral storage for `/tmp`, HOME and its logs."""
    res = model.resources
    scratch = ephemeral_storage(*model_scratch(model))
    requests = {"cpu": res.cpu, "memory": res.memory_request or res.memory, EPHEMERAL: scratch}
    limits = {"memory": res.memory, EPHEMERAL: scratch}
    if device is not None:
        requests[device.resource] = str(model.gpus)
        limits[device.resource] = str(model.gpus)
    return Container(descriptor(model.engine).server_container, False, requests, limits)


def fetches_weights(model: Model) -> bool:
    """Whether the model's pod has the weights init container: pinned Hub weights or LoRA
    adapters to verify, and always for KServe (the predictor mounts the verified volume)."""
    source = model.source
    hub = source.uri.startswith("hf://") and bool(source.revision) and bool(source.sha256)
    return descriptor(model.engine).always_fetches_weights or hub or bool(model.lora_adapters)


def per_replica_volumes(model: Model) -> bool:
    """Whether every replica has its own weights volume (a StatefulSet claim template)."""
    return model.storage is not None and model.storage.per_replica


def weights_job(model: Model) -> bool:
    """Whether a weights Job fills the model's shared weights volume, so its server pods only
    wait for the weights and need no internet egress. Per-replica volumes are created with
    each replica, after any Job could run: those pods keep downloading themselves."""
    return fetches_weights(model) and not per_replica_volumes(model)


def fetches_in_pod(model: Model) -> bool:
    """Whether the model's server pods download weights themselves (per-replica volumes)."""
    return fetches_weights(model) and per_replica_volumes(model)


def model_fetch(model: Model) -> Container:
    """The in-pod weights init container (per-replica volumes): the server's CPU and memory, no
    GPUs (an init container's requests count only up to the largest container's, so this adds
    nothing to the pod's); it mounts `/tmp` and HOME like the server."""
    res = model.resources
    scratch = ephemeral_storage(*model_scratch(model))
    return Container(FETCH_WEIGHTS, True, {"cpu": res.cpu, "memory": res.memory_request
                                           or res.memory, EPHEMERAL: scratch},
                     {"memory": res.memory, EPHEMERAL: scratch})


def model_wait(model: Model) -> Container:
    """The init container that waits for the weights Job's marker: it only reads a few files,
    but mounts `/tmp` and HOME like the server, so its ephemeral storage covers them (an init
    container's requests count only up to the largest container's: this adds nothing)."""
    scratch = ephemeral_storage(*model_scratch(model))
    return Container(WAIT_WEIGHTS, True, {**WAIT_REQUESTS, EPHEMERAL: scratch},
                     {**WAIT_LIMITS, EPHEMERAL: scratch})


def job_fetch(model: Model) -> Container:
    """The weights Job's download-and-verify container; it mounts `/tmp` and HOME like the
    model's server, so its ephemeral storage covers the same scratch volumes."""
    scratch = ephemeral_storage(*model_scratch(model))
    return Container(FETCH_WEIGHTS, False, {**JOB_FETCH_REQUESTS, EPHEMERAL: scratch},
                     {**JOB_FETCH_LIMITS, EPHEMERAL: scratch})


def data_container(name: str, res: DataResources, init: bool = False,
                   scratch: tuple[str, ...] | None = ()) -> Container:
    """A data store container: CPU and memory requests, memory limit = request, CPU limit only
    when the profile sets one; ephemeral storage for the size limits of the disk-backed
    emptyDirs it mounts (`scratch`) and its logs, or none with `scratch=None` (CloudNativePG)."""
    requests = {"cpu": res.cpu, "memory": res.memory}
    limits = {"memory": res.memory}
    if res.cpu_limit is not None:
        limits["cpu"] = res.cpu_limit
    if scratch is not None:
        requests[EPHEMERAL] = limits[EPHEMERAL] = ephemeral_storage(*scratch)
    return Container(name, init, requests, limits)


def postgres_scratch() -> tuple[str, str]:
    """Size limits of a plain PostgreSQL pod's `/var/run/postgresql` and `/tmp` emptyDirs."""
    return POSTGRES_RUN_SIZE, POSTGRES_TMP_SIZE


def redis_scratch(cache: Cache) -> tuple[str, ...]:
    """Size limit of a non-persistent Redis's `/data` emptyDir (none for a persistent one,
    whose `/data` is its volume). Without persistence Redis runs `--save "" --appendonly no`
    and writes nothing there; a manual `BGSAVE` is what the limit stops."""
    return () if cache.persistent else (REDIS_SCRATCH_SIZE,)


def redis_exporter() -> Container:
    """The redis_exporter sidecar (no volumes: its logs only)."""
    eph = ephemeral_storage()
    return Container("exporter", False, {**REDIS_EXPORTER_REQUESTS, EPHEMERAL: eph},
                     {**REDIS_EXPORTER_LIMITS, EPHEMERAL: eph})


def model_workload(profile: Profile, index: int, model: Model) -> Workload:
    """A model's pod: the weights init container (if any), then the server."""
    device = resolve(profile).model(model).device
    init: tuple[Container, ...] = ()
    if weights_job(model):
        init = (model_wait(model),)
    elif fetches_in_pod(model):
        init = (model_fetch(model),)
    return Workload("model", model.name, model.namespace, ("spec", "models", index),
                    (*init, model_server(model, device)))


def weights_job_workload(index: int, model: Model) -> Workload | None:
    """The pod of the model's weights Job, if it has one (located at the model's `source`)."""
    if not weights_job(model):
        return None
    return Workload("weights job", f"{model.name}-weights", model.namespace,
                    ("spec", "models", index, "source"), (job_fetch(model),))


def vector_database_workload(index: int, db: VectorDatabase) -> Workload | None:
    """A vector database's pod, or None for a managed one (or one without resources, which the
    schema refuses)."""
    if not db.runs_in_cluster or db.resources is None:
        return None
    containers: tuple[Container, ...]
    if db.engine == "weaviate":
        containers = (data_container("weaviate", db.resources),)
    elif db.pgvector_settings.operator == "cloudnative-pg":
        containers = (data_container(CNPG_BOOTSTRAP, db.resources, init=True, scratch=None),
                      data_container("postgres", db.resources, scratch=None))
    else:
        containers = (data_container("postgres", db.resources, scratch=postgres_scratch()),)
    return Workload("vector database", db.name, db.namespace, ("spec", "vectorDatabases", index),
                    containers)


def cache_workload(index: int, cache: Cache) -> Workload | None:
    """A cache's pod: Redis and, with `exporter`, its metrics sidecar."""
    if cache.resources is None:
        return None
    containers = [data_container("redis", cache.resources, scratch=redis_scratch(cache))]
    if cache.redis.exporter:
        containers.append(redis_exporter())
    return Workload("cache", cache.name, cache.namespace, ("spec", "caches", index),
                    tuple(containers))


def workloads(profile: Profile) -> list[Workload]:
    """Every workload the platform renders, in profile order: models, their weights Jobs,
    vector databases, caches."""
    spec = profile.spec
    result = [model_workload(profile, i, m) for i, m in enumerate(spec.models)]
    jobs = [weights_job_workload(i, m) for i, m in enumerate(spec.models)]
    result += [w for w in jobs if w is not None]
    stores = [vector_database_workload(i, db) for i, db in enumerate(spec.vector_databases)]
    stores += [cache_workload(i, c) for i, c in enumerate(spec.caches)]
    return result + [w for w in stores if w is not None]
