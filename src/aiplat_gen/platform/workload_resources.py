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


@dataclass(frozen=True)
class Container:
    """One container of a workload's pod and the resources it asks for."""

    name: str
    init: bool
    requests: dict[str, str]
    limits: dict[str, str]

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


def model_server(model: Model, device: Device | None) -> Container:
    """The model server container: CPU request, memory request and limit, GPUs (on a known
    device) in requests and limits."""
    res = model.resources
    requests = {"cpu": res.cpu, "memory": res.memory_request or res.memory}
    limits = {"memory": res.memory}
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
    nothing to the pod's)."""
    res = model.resources
    return Container(FETCH_WEIGHTS, True, {"cpu": res.cpu, "memory": res.memory_request
                                           or res.memory}, {"memory": res.memory})


def model_wait() -> Container:
    """The init container that waits for the weights Job's marker: it only reads a few files."""
    return Container(WAIT_WEIGHTS, True, dict(WAIT_REQUESTS), dict(WAIT_LIMITS))


def job_fetch() -> Container:
    """The weights Job's download-and-verify container."""
    return Container(FETCH_WEIGHTS, False, dict(JOB_FETCH_REQUESTS), dict(JOB_FETCH_LIMITS))


def data_container(name: str, res: DataResources, init: bool = False) -> Container:
    """A data store container: CPU and memory requests, memory limit = request, CPU limit only
    when the profile sets one."""
    limits = {"memory": res.memory}
    if res.cpu_limit is not None:
        limits["cpu"] = res.cpu_limit
    return Container(name, init, {"cpu": res.cpu, "memory": res.memory}, limits)


def redis_exporter() -> Container:
    """The redis_exporter sidecar."""
    return Container("exporter", False, dict(REDIS_EXPORTER_REQUESTS), dict(REDIS_EXPORTER_LIMITS))


def model_workload(profile: Profile, index: int, model: Model) -> Workload:
    """A model's pod: the weights init container (if any), then the server."""
    device = resolve(profile).model(model).device
    init: tuple[Container, ...] = ()
    if weights_job(model):
        init = (model_wait(),)
    elif fetches_in_pod(model):
        init = (model_fetch(model),)
    return Workload("model", model.name, model.namespace, ("spec", "models", index),
                    (*init, model_server(model, device)))


def weights_job_workload(index: int, model: Model) -> Workload | None:
    """The pod of the model's weights Job, if it has one (located at the model's `source`)."""
    if not weights_job(model):
        return None
    return Workload("weights job", f"{model.name}-weights", model.namespace,
                    ("spec", "models", index, "source"), (job_fetch(),))


def vector_database_workload(index: int, db: VectorDatabase) -> Workload | None:
    """A vector database's pod, or None for a managed one (or one without resources, which the
    schema refuses)."""
    if not db.runs_in_cluster or db.resources is None:
        return None
    containers: tuple[Container, ...]
    if db.engine == "weaviate":
        containers = (data_container("weaviate", db.resources),)
    elif db.pgvector_settings.operator == "cloudnative-pg":
        containers = (data_container(CNPG_BOOTSTRAP, db.resources, init=True),
                      data_container("postgres", db.resources))
    else:
        containers = (data_container("postgres", db.resources),)
    return Workload("vector database", db.name, db.namespace, ("spec", "vectorDatabases", index),
                    containers)


def cache_workload(index: int, cache: Cache) -> Workload | None:
    """A cache's pod: Redis and, with `exporter`, its metrics sidecar."""
    if cache.resources is None:
        return None
    containers = [data_container("redis", cache.resources)]
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
