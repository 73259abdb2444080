"""What vLLM, Triton and KServe workloads share: labels, placement, GPUs, security, volumes.

Every model server pod

- runs on its node pool (pool selector and tolerations), with its priority class, spread over
  nodes (`topologySpreadConstraints` on `kubernetes.io/hostname`, `ScheduleAnyway`);
- requests its GPUs in requests and limits: `nvidia.com/gpu`, or `nvidia.com/mig-<profile>` on
  a MIG pool under the `mixed` strategy; memory request and limit, CPU request;
- is `restricted`: non-root (UID/GID 1000, the `triton-server` user of the Triton image), no
  privilege escalation, all capabilities dropped, seccomp `RuntimeDefault`, read-only root file
  system; `HOME` (`/home/aiplat`, which holds `~/.cache`, `~/.triton`, `~/.config`, `~/.nv`)
  and `/tmp` are emptyDirs, `/dev/shm` is a memory emptyDir sized by `resources.shmSize`
  (counted in the memory limit); `USER` is set because the UID has no passwd entry (PyTorch's
  cache paths call `getpass.getuser()`);
- drains: a `preStop` sleep lets endpoints drop the pod before SIGTERM, and
  `terminationGracePeriodSeconds` = that sleep + `drainSeconds`;
- if it is the model's only replica (`replicas: 1`, or `autoscaling.minReplicas: 1`) on a
  Karpenter pool, carries `karpenter.sh/do-not-disrupt: "true"`: the pool consolidates
  `WhenEmptyOrUnderutilized`, and evicting the only replica takes the model down until a new
  node has pulled the image and loaded the weights. On a pod the annotation blocks
  consolidation of its node, and drift unless the NodeClaim sets a terminationGracePeriod; it
  does not block expiration, repair or a drain (Karpenter v1 docs, reference/annotations,
  "karpenter.sh/do-not-disrupt", GA). A PodDisruptionBudget `minAvailable: 1` would protect it
  too, but would also block every node drain (upgrades) for good; the budget stays
  `maxUnavailable: 1`. An autoscaled model's extra replicas carry it as well; scaling in
  removes them, and their emptied nodes are consolidated as usual;
- gets its pinned weights from the model's weights Job (`weights_job`), which downloads and
  verifies them into the shared weights volume: the pod's init container only waits for the
  Job's marker, with no token and no internet egress; with per-replica volumes, which no Job
  can fill, the init container downloads and verifies them itself (`serving_prefetch`). The
  server mounts the volume read-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiplat_gen.platform.engines import EngineDescriptor, descriptor, runtime_of
from aiplat_gen.platform.facts.images import pinned
from aiplat_gen.platform.facts.models import Architecture
from aiplat_gen.platform.memory import Device
from aiplat_gen.platform.pods import MODEL_LABEL, model_selector
from aiplat_gen.platform.resolved import ResolvedModel, resolve
from aiplat_gen.platform.scheduling import placement
from aiplat_gen.platform.secrets import hub_token
from aiplat_gen.platform.workload_resources import (
    Container,
    model_fetch,
    model_scratch,
    model_server,
    model_wait,
    weights_job,
)
from aiplat_gen.profile.schema.cluster import NodePool
from aiplat_gen.profile.schema.profile import Profile
from aiplat_gen.profile.schema.serving import Engine, Model
from aiplat_gen.render.components.base import RenderContext, labels
from aiplat_gen.render.components.serving_prefetch import (
    FETCH,
    WAIT,
    WAIT_SECONDS,
    PrefetchItem,
    hub_repo,
    prefetch_env,
    script_command,
)

COMPONENT = "model-server"
QUANTIZATION_LABEL = "ai.platform/quantization"
ENGINE_LABEL = "ai.platform/engine"
REVISION_ANNOTATION = "ai.platform/revision"
SHA256_ANNOTATION = "ai.platform/weights-sha256"
SOURCE_ANNOTATION = "ai.platform/source"

DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt"

RUN_AS = 1000
HOME = "/home/aiplat"
WEIGHTS_MOUNT = "/models"
PRESTOP_SLEEP_SECONDS = 15
DEFAULT_VLLM_IMAGE = pinned("vllm")
"""The vLLM image of models that name none, and of download init containers (`facts.images`)."""
DEFAULT_TRITON_IMAGE = pinned("triton")


@dataclass(frozen=True)
class ModelContext:
    """One model of a valid profile with what its references resolve to (`platform.resolved`)."""

    profile: Profile
    resolved: ResolvedModel
    pool: NodePool
    device: Device

    @property
    def model(self) -> Model:
        """The model's profile entry."""
        return self.resolved.model

    @property
    def architecture(self) -> Architecture | None:
        """Its known architecture, if any."""
        return self.resolved.architecture

    @property
    def parameters(self) -> int | None:
        """Its parameter count, if known."""
        return self.resolved.parameters

    @property
    def priority_class(self) -> str | None:
        """The priority class its pods run with, if any."""
        return self.resolved.priority_class

    @property
    def name(self) -> str:
        """The model's object name."""
        return self.model.name

    @property
    def served_name(self) -> str:
        """The name clients address the model by."""
        return self.model.served_model_name or self.model.name


def model_context(profile: Profile, model: Model) -> ModelContext:
    """The model with its resolved pool and device, which the serving checks ensure exist."""
    resolved = resolve(profile).model(model)
    pool, device = resolved.pool, resolved.device
    assert pool is not None, f"model {model.name}: unknown pool {model.node_pool}"
    assert device is not None, f"model {model.name}: pool {pool.name} has no known GPU"
    return ModelContext(profile, resolved, pool, device)


def models_of(ctx: RenderContext, engine: Engine) -> list[ModelContext]:
    """The profile's models served by one engine, in profile order."""
    return [model_context(ctx.profile, m) for m in ctx.profile.spec.models if m.engine == engine]


def image_tag(image: str) -> str | None:
    """The tag of an image reference (`vllm/vllm-openai:v0.11.0` -> `v0.11.0`), if it has one."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def selector(mc: ModelContext) -> dict[str, str]:
    """Pod selector labels: stable across environments and image changes."""
    return model_selector(mc.name)


def model_labels(mc: ModelContext, image: str | None) -> dict[str, str]:
    """Recommended labels plus the model, engine and quantization labels (docs/output.md)."""
    model = mc.model
    return labels(mc.profile, mc.name, COMPONENT, image_tag(image) if image else None,
                  **{MODEL_LABEL: mc.name, ENGINE_LABEL: model.engine,
                     QUANTIZATION_LABEL: model.quantization or "none"})


def model_annotations(mc: ModelContext, revision: str | None = None,
                      sha256: str | None = None) -> dict[str, str]:
    """Where the weights come from: source, pinned revision, manifest sha256."""
    source = mc.model.source
    result = {SOURCE_ANNOTATION: source.uri}
    if revision or source.revision:
        result[REVISION_ANNOTATION] = revision or source.revision or ""
    if sha256 or source.sha256:
        result[SHA256_ANNOTATION] = sha256 or source.sha256 or ""
    return result


def single_replica(model: Model) -> bool:
    """Whether the model may run on one replica only (a scale-to-zero model may run on none:
    it accepts the gap)."""
    if model.autoscaling is not None:
        return model.autoscaling.min_replicas == 1
    return model.replicas == 1


def pod_annotations(mc: ModelContext) -> dict[str, str]:
    """Annotations of the model's pods (on top of `model_annotations`): Karpenter's
    `do-not-disrupt` for the only replica of a model on a Karpenter pool."""
    if single_replica(mc.model) and mc.pool.provisioner == "karpenter":
        return {DO_NOT_DISRUPT: "true"}
    return {}


def weights_dir(revision: str) -> str:
    """Folder of one revision of the model's weights in the weights volume."""
    return f"{WEIGHTS_MOUNT}/model/{revision}"


def lora_dir(name: str, revision: str) -> str:
    """Folder of one revision of a LoRA adapter in the weights volume."""
    return f"{WEIGHTS_MOUNT}/lora/{name}/{revision}"


def prefetch_items(mc: ModelContext, revision: str | None = None,
                   sha256: str | None = None) -> list[PrefetchItem]:
    """The Hub revisions the init container fetches: the model (when it comes from the Hub)
    and its LoRA adapters."""
    model = mc.model
    items: list[PrefetchItem] = []
    rev = revision or model.source.revision
    digest = sha256 or model.source.sha256
    if model.source.uri.startswith("hf://") and rev and digest:
        items.append(PrefetchItem(hub_repo(model.source.uri), rev, digest, weights_dir(rev),
                                  runtime_of(model).hub_files))
    lora_files = descriptor(model.engine).lora_files
    for adapter in model.lora_adapters:
        items.append(PrefetchItem(hub_repo(adapter.uri), adapter.revision, adapter.sha256,
                                  lora_dir(adapter.name, adapter.revision), lora_files))
    return items


def token_env(mc: ModelContext) -> list[dict[str, Any]]:
    """`HF_TOKEN` from the model's Hugging Face token Secret (`platform.secrets.hub_token`), for
    a container that downloads from the Hub; none without a token."""
    token = hub_token(mc.profile, mc.model)
    if token is None:
        return []
    return [{"name": "HF_TOKEN",
             "valueFrom": {"secretKeyRef": {"name": token.name, "key": token.key}}}]


def pod_security_context() -> dict[str, Any]:
    """Pod-level `restricted` settings; fsGroup makes the weights volume writable for the UID."""
    return {"runAsNonRoot": True, "runAsUser": RUN_AS, "runAsGroup": RUN_AS, "fsGroup": RUN_AS,
            "fsGroupChangePolicy": "OnRootMismatch",
            "seccompProfile": {"type": "RuntimeDefault"}}


def container_security_context() -> dict[str, Any]:
    """Container-level `restricted` settings with a read-only root file system."""
    return {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
            "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}}


def home_env() -> list[dict[str, Any]]:
    """HOME and USER for a UID without a passwd entry, with caches under the home emptyDir."""
    return [{"name": "HOME", "value": HOME}, {"name": "USER", "value": "aiplat"},
            {"name": "HF_HOME", "value": f"{HOME}/.cache/huggingface"}]


def profile_env(model: Model) -> list[dict[str, Any]]:
    """The model's own `env` entries, in name order (after the variables aiplat-gen sets)."""
    return [{"name": k, "value": v} for k, v in sorted(model.env.items())]


def scratch_volumes(mc: ModelContext) -> list[dict[str, Any]]:
    """`/tmp`, HOME (node disk, bounded: `workload_resources` counts them in the containers'
    ephemeral storage) and the memory-backed `/dev/shm`."""
    tmp, home = model_scratch(mc.model)
    return [
        {"name": "tmp", "emptyDir": {"sizeLimit": tmp}},
        {"name": "home", "emptyDir": {"sizeLimit": home}},
        {"name": "shm", "emptyDir": {"medium": "Memory",
                                     "sizeLimit": mc.model.resources.shm_size}},
    ]


def scratch_mounts() -> list[dict[str, Any]]:
    """Mounts of the scratch volumes."""
    return [{"name": "tmp", "mountPath": "/tmp"}, {"name": "home", "mountPath": HOME},
            {"name": "shm", "mountPath": "/dev/shm"}]


def weights_volume(mc: ModelContext) -> dict[str, Any]:
    """The weights PVC as a pod volume (shared storage; per-replica storage uses a claim
    template of the same name instead)."""
    return {"name": "weights", "persistentVolumeClaim": {"claimName": pvc_name(mc)}}


def pvc_name(mc: ModelContext) -> str:
    """Name of the shared weights PVC (or of the StatefulSet claim template)."""
    return f"{mc.name}-weights"


def server_resources(mc: ModelContext) -> tuple[str, dict[str, Any]]:
    """The server container's name and resources (`workload_resources.model_server`)."""
    server = model_server(mc.model, mc.device)
    return server.name, server.resources()


def prefetch_container(mc: ModelContext, image: str, items: list[PrefetchItem],
                       fetch: Container | None = None) -> dict[str, Any]:
    """The container that downloads and verifies the weights (see `serving_prefetch`), in the
    weights Job or, for per-replica volumes, as the server pod's init container; its resources
    come from `workload_resources` (`job_fetch`, default `model_fetch`)."""
    fetch = fetch or model_fetch(mc.model)
    env = [*home_env(), prefetch_env(items), *token_env(mc)]
    return {
        "name": fetch.name,
        "image": image,
        "command": script_command(FETCH),
        "env": env,
        "resources": fetch.resources(),
        "securityContext": container_security_context(),
        "volumeMounts": [{"name": "weights", "mountPath": WEIGHTS_MOUNT},
                         *(m for m in scratch_mounts() if m["name"] != "shm")],
        "workingDir": HOME,
    }


def wait_container(mc: ModelContext, image: str, items: list[PrefetchItem]) -> dict[str, Any]:
    """The init container that waits until the weights Job has verified the weights: it reads
    the markers of the read-only weights volume, needs no token and no network, and asks for
    little (`workload_resources.model_wait`)."""
    wait = model_wait(mc.model)
    return {
        "name": wait.name,
        "image": image,
        "command": script_command(WAIT),
        "env": [*home_env(), prefetch_env(items),
                {"name": "AIPLAT_WAIT_SECONDS", "value": str(WAIT_SECONDS)}],
        "resources": wait.resources(),
        "securityContext": container_security_context(),
        "volumeMounts": [{"name": "weights", "mountPath": WEIGHTS_MOUNT, "readOnly": True},
                         *(m for m in scratch_mounts() if m["name"] != "shm")],
        "workingDir": HOME,
    }


def weights_init_container(mc: ModelContext, image: str, items: list[PrefetchItem]
                           ) -> dict[str, Any]:
    """The server pod's weights init container: wait for the weights Job, or download itself
    where the model has per-replica volumes (`workload_resources.weights_job`)."""
    if weights_job(mc.model):
        return wait_container(mc, image, items)
    return prefetch_container(mc, image, items)


def container_ports(engine: EngineDescriptor) -> list[dict[str, Any]]:
    """The server container's ports."""
    return [{"name": p.name, "containerPort": p.number, "protocol": "TCP"}
            for p in engine.container_ports]


def service_ports(engine: EngineDescriptor) -> list[dict[str, Any]]:
    """The model Service's ports: every container port, by name."""
    return [{"name": p.name, "port": p.number, "targetPort": p.name, "protocol": "TCP"}
            for p in engine.container_ports]


def http_probes(engine: EngineDescriptor, startup_seconds: int) -> dict[str, Any]:
    """startupProbe (model loading takes minutes), then readiness and liveness, on the
    engine's health paths and first API port."""
    assert engine.health is not None, f"{engine.name}: its controller sets the probes"
    port, live, ready = engine.api_ports[0].name, engine.health.live, engine.health.ready
    period = 10
    return {
        "startupProbe": {"httpGet": {"path": ready, "port": port}, "periodSeconds": period,
                         "timeoutSeconds": 5,
                         "failureThreshold": max(1, -(-startup_seconds // period))},
        "readinessProbe": {"httpGet": {"path": ready, "port": port}, "periodSeconds": period,
                           "timeoutSeconds": 5, "failureThreshold": 3},
        "livenessProbe": {"httpGet": {"path": live, "port": port}, "periodSeconds": 20,
                          "timeoutSeconds": 5, "failureThreshold": 3},
    }


def startup_seconds(weights_gib: float) -> int:
    """Time allowed for a server to load: 10 minutes plus 10 s per GiB of weights, at most
    an hour (CUDA graph capture and compilation come on top of reading the weights)."""
    return min(3600, 600 + int(10 * weights_gib))


def prestop() -> dict[str, Any]:
    """`preStop` sleep: endpoints drop the pod before the server gets SIGTERM."""
    return {"preStop": {"exec": {"command": ["sleep", str(PRESTOP_SLEEP_SECONDS)]}}}


def pod_spec(mc: ModelContext, containers: list[dict[str, Any]],
             init_containers: list[dict[str, Any]], volumes: list[dict[str, Any]]
             ) -> dict[str, Any]:
    """The pod spec every engine shares around its containers."""
    place = placement(mc.pool)
    spec: dict[str, Any] = {
        # Its own ServiceAccount (components.rbac), and no token: the server calls no API.
        "serviceAccountName": mc.name,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
    }
    if mc.priority_class:
        spec["priorityClassName"] = mc.priority_class
    spec["nodeSelector"] = place.node_selector
    if place.tolerations:
        spec["tolerations"] = place.tolerations
    spec["topologySpreadConstraints"] = [topology_spread(mc)]
    spec["securityContext"] = pod_security_context()
    spec["terminationGracePeriodSeconds"] = PRESTOP_SLEEP_SECONDS + mc.model.drain_seconds
    if init_containers:
        spec["initContainers"] = init_containers
    spec["containers"] = containers
    spec["volumes"] = volumes
    return spec


def topology_spread(mc: ModelContext) -> dict[str, Any]:
    """Spread replicas over nodes where possible (never blocks scheduling)."""
    return {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": selector(mc)}}
