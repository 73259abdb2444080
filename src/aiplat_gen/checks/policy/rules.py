"""The rules of `aiplat-gen check --policy`: the default checks of kube-linter, kube-score, Polaris
and Checkov that apply to an inference platform, merged into one list with one id each.

Each rule names the checks it stands for in each scanner, so a declared exception
(`spec.security.policyExceptions`) becomes the annotations each scanner understands
(`policy.exceptions`). Rules look at every pod template of the rendered objects (Deployments,
StatefulSets, DaemonSets, Jobs, CronJobs, Pods and KServe predictors), at NetworkPolicies
(coverage of every pod) and at PodDisruptionBudgets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aiplat_gen.profile.schema.serving import SHA256_PLACEHOLDER
from aiplat_gen.profile.schema.types import parse_quantity

Obj = dict[str, Any]
WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job",
                            "CronJob", "Pod", "InferenceService"})
GPU_PREFIXES = ("nvidia.com/gpu", "nvidia.com/mig-")
HIGH_UID = 10000
EPHEMERAL = "ephemeral-storage"
ALLOWED_ADDED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})


@dataclass(frozen=True)
class Rule:
    """One policy rule and the scanner checks it merges."""

    id: str
    title: str
    checkov: tuple[str, ...] = ()
    kube_linter: tuple[str, ...] = ()
    polaris: tuple[str, ...] = ()
    kube_score: tuple[str, ...] = ()
    exceptable: bool = True
    """Whether `spec.security.policyExceptions` may name it (its id is a `RuleId`)."""


RULES: tuple[Rule, ...] = (
    Rule("privileged", "containers are not privileged", ("CKV_K8S_16",),
         ("privileged-container",), ("runAsPrivileged",)),
    Rule("privilege-escalation", "allowPrivilegeEscalation is false", ("CKV_K8S_20",),
         ("privilege-escalation-container",), ("privilegeEscalationAllowed",)),
    Rule("run-as-non-root", "containers run as a non-root user", ("CKV_K8S_23",),
         ("run-as-non-root",), ("runAsRootAllowed",)),
    Rule("high-uid", f"containers run with a UID of at least {HIGH_UID}", ("CKV_K8S_40",),
         (), (), ("container-security-context-user-group-id",)),
    Rule("capabilities", "all capabilities are dropped (only NET_BIND_SERVICE may be added)",
         ("CKV_K8S_28", "CKV_K8S_37"), ("drop-net-raw-capability",),
         ("dangerousCapabilities", "insecureCapabilities")),
    Rule("seccomp", "the seccomp profile is RuntimeDefault or Localhost", ("CKV_K8S_31",)),
    Rule("host-namespaces", "no host network, PID or IPC namespace",
         ("CKV_K8S_17", "CKV_K8S_18", "CKV_K8S_19"), ("host-network", "host-pid", "host-ipc"),
         ("hostNetworkSet", "hostPIDSet", "hostIPCSet")),
    Rule("host-path", "no hostPath volumes", ("CKV_K8S_27",),
         ("sensitive-host-mounts", "writable-host-mount"), ("hostPathSet",)),
    Rule("read-only-root-fs", "containers have a read-only root file system", ("CKV_K8S_22",),
         ("no-read-only-root-fs",), ("notReadOnlyRootFilesystem",),
         ("container-security-context-readonlyrootfilesystem",)),
    Rule("probes", "containers have readiness and liveness probes", ("CKV_K8S_8", "CKV_K8S_9"),
         ("no-liveness-probe", "no-readiness-probe"),
         ("livenessProbeMissing", "readinessProbeMissing"), ("pod-probes",)),
    Rule("cpu-requests", "containers request CPU", ("CKV_K8S_10",), ("unset-cpu-requirements",),
         ("cpuRequestsMissing",), ("container-resources",)),
    Rule("cpu-limits", "containers limit CPU", ("CKV_K8S_11",), ("unset-cpu-requirements",),
         ("cpuLimitsMissing",), ("container-resources",)),
    Rule("memory-requests", "containers request memory", ("CKV_K8S_12",),
         ("unset-memory-requirements",), ("memoryRequestsMissing",), ("container-resources",)),
    Rule("memory-limits", "containers limit memory", ("CKV_K8S_13",),
         ("unset-memory-requirements",), ("memoryLimitsMissing",), ("container-resources",)),
    Rule("image-tag", "images are pinned (a tag other than latest, or a digest)",
         ("CKV_K8S_14",), ("latest-tag",), ("tagNotSpecified",), ("container-image-tag",)),
    Rule("image-digest", "images are pinned by digest", ("CKV_K8S_43",)),
    Rule("image-pull-policy", "imagePullPolicy is Always (or the image has a digest)",
         ("CKV_K8S_15",), (), ("pullPolicyNotAlways",), ("container-image-pull-policy",)),
    Rule("network-policy", "every pod is selected by a NetworkPolicy", ("CKV2_K8S_6",), (),
         ("missingNetworkPolicy",), ("pod-networkpolicy",)),
    Rule("service-account-token", "pods do not mount a service account token", ("CKV_K8S_38",),
         (), ("automountServiceAccountToken",)),
    Rule("service-account", "pods use their own ServiceAccount, not `default`", ("CKV_K8S_41",),
         ("default-service-account",)),
    Rule("secrets-in-env", "Secrets are not passed in environment variables", ("CKV_K8S_35",),
         ("env-var-secret",)),
    Rule("pdb", "PodDisruptionBudgets select a workload and allow a disruption", (),
         ("pdb-max-unavailable", "pdb-min-available")),
    Rule("gpu-limits", "GPUs are requested in limits, equal to requests"),
    # Not exceptable: a placeholder checksum makes every download fail its verification.
    Rule("weights-checksum", "pinned weights carry a real sha256, not the placeholder",
         exceptable=False),
    Rule("ephemeral-storage", "disk-backed emptyDirs have a sizeLimit and containers request "
         "and limit ephemeral-storage covering them", (), (), (),
         ("container-ephemeral-storage-request-and-limit",)),
    Rule("statefulset-service", "a StatefulSet's serviceName is a headless Service of its "
         "namespace", (), (), (), ("statefulset-has-servicename",)),
)
RULES_BY_ID: dict[str, Rule] = {r.id: r for r in RULES}


@dataclass(frozen=True)
class PodTemplate:
    """A pod template found in an object, with its containers."""

    obj: Obj
    labels: dict[str, str]
    spec: Obj
    containers: list[Obj]
    init_containers: list[Obj]

    @property
    def all_containers(self) -> list[Obj]:
        """Init containers and containers."""
        return [*self.init_containers, *self.containers]


def pod_template(obj: Obj) -> PodTemplate | None:
    """The pod template of a workload object, if it has one."""
    kind = obj.get("kind")
    spec = obj.get("spec") or {}
    if kind == "Pod":
        meta, pod = obj.get("metadata") or {}, spec
    elif kind == "CronJob":
        template = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
        meta, pod = template.get("metadata") or {}, template.get("spec") or {}
    elif kind == "InferenceService":
        pod = spec.get("predictor") or {}
        meta = {"labels": pod.get("labels") or {}}
        containers = [*(pod.get("containers") or []), *([pod["model"]] if "model" in pod else [])]
        return PodTemplate(obj, dict(meta["labels"]), pod, containers,
                           list(pod.get("initContainers") or []))
    elif kind in WORKLOAD_KINDS:
        template = spec.get("template") or {}
        meta, pod = template.get("metadata") or {}, template.get("spec") or {}
    else:
        return None
    return PodTemplate(obj, dict(meta.get("labels") or {}), pod, list(pod.get("containers") or []),
                       list(pod.get("initContainers") or []))


def _sc(container: Obj) -> Obj:
    return container.get("securityContext") or {}


def _name(container: Obj) -> str:
    return str(container.get("name", "kserve-container"))


def _effective(pod: PodTemplate, container: Obj, key: str) -> Any:
    value = _sc(container).get(key)
    return value if value is not None else (pod.spec.get("securityContext") or {}).get(key)


def _has_digest(image: str) -> bool:
    return "@sha256:" in image


def _tag(image: str) -> str | None:
    last = image.split("@", 1)[0].rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


Check = Callable[[PodTemplate], Iterator[str]]


def _privileged(pod: PodTemplate) -> Iterator[str]:
    for c in pod.all_containers:
        if _sc(c).get("privileged"):
            yield f"container {_name(c)} is privileged"


def _escalation(pod: PodTemplate) -> Iterator[str]:
    for c in pod.all_containers:
        if _sc(c).get("allowPrivilegeEscalation") is not False:
            yield f"container {_name(c)} does not set allowPrivilegeEscalation: false"


def _non_root(pod: PodTemplate) -> Iterator[str]:
    for c in pod.all_containers:
        if _effective(pod, c, "runAsNonRoot") is not True or \
                _effective(pod, c, "runAsUser") == 0:
            yield f"container {_name(c)} may run as root (runAsNonRoot is not true)"


def _high_uid(pod: PodTemplate) -> Iterator[str]:
    for c in pod.all_containers:
        uid = _effective(pod, c, "runAsUser")
        if not isinstance(uid, int) or uid < HIGH_UID:
            yield f"container {_name(c)} runs as UID {uid}, below {HIGH_UID}"


def _capabilities(pod: PodTemplate) -> Iterator[str]:
    for c in pod.all_containers:
        caps = _sc(c).get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            yield f"container {_name(c)} does not drop ALL capabilities"
        added = set(caps.get("add") or []) - ALLOWED_ADDED_CAPABILITIES
        if added:
            yield f"container {_name(c)} adds capabilities {', '.join(sorted(added))}"


def _seccomp(pod: PodTemplate) -> Iterator[str]:
    for c in pod.all_containers:
        profile = _effective(pod, c, "seccompProfile") or {}
        if profile.get("type") not in ("RuntimeDefault", "Localhost"):
            yield f"container {_name(c)} has no RuntimeDefault seccomp profile"


def _host_namespaces(pod: PodTemplate) -> Iterator[str]:
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.spec.get(key):
            yield f"the pod sets {key}"


def _host_path(pod: PodTemplate) -> Iterator[str]:
    for volume in pod.spec.get("volumes") or []:
        if "hostPath" in volume:
            yield f"volume {volume.get('name')} is a hostPath"


def _read_only(pod: PodTemplate) -> Iterator[str]:
    for c in pod.all_containers:
        if _sc(c).get("readOnlyRootFilesystem") is not True:
            yield f"container {_name(c)} has a writable root file system"


RUN_TO_COMPLETION = frozenset({"Job", "CronJob"})
"""Kinds whose pods end when their work is done: no readiness or liveness to probe. Polaris
(`checks/livenessProbeMissing.yaml`, `controllers.exclude: [Job, CronJob]`) and Checkov
(`CKV_K8S_8` LivenessProbe: "Don't check Job/CronJob") skip them too."""


def _probes(pod: PodTemplate) -> Iterator[str]:
    if pod.obj.get("kind") in RUN_TO_COMPLETION:
        return
    for c in pod.containers:
        missing = [p for p in ("readinessProbe", "livenessProbe") if p not in c]
        if missing:
            yield f"container {_name(c)} has no {' and no '.join(missing)}"


def _resource(kind: str, resource: str) -> Check:
    def check(pod: PodTemplate) -> Iterator[str]:
        for c in pod.all_containers:
            if resource not in ((c.get("resources") or {}).get(kind) or {}):
                yield f"container {_name(c)} sets no {kind}.{resource}"
    return check


def _image_tag(pod: PodTemplate) -> Iterator[str]:
    for c in pod.all_containers:
        image = str(c.get("image", ""))
        if image and not _has_digest(image) and _tag(image) in (None, "latest"):
            yield f"container {_name(c)} image {image} is not pinned"


def _image_digest(pod: PodTemplate) -> Iterator[str]:
    for c in pod.all_containers:
        image = str(c.get("image", ""))
        if image and not _has_digest(image):
            yield f"container {_name(c)} image {image} has no digest"


def _pull_policy(pod: PodTemplate) -> Iterator[str]:
    for c in pod.all_containers:
        image = str(c.get("image", ""))
        if image and not _has_digest(image) and c.get("imagePullPolicy") != "Always":
            yield f"container {_name(c)} pulls {image} only if not present"


def _token(pod: PodTemplate) -> Iterator[str]:
    if pod.spec.get("automountServiceAccountToken") is not False:
        yield "the pod mounts a service account token (automountServiceAccountToken)"


def _service_account(pod: PodTemplate) -> Iterator[str]:
    if pod.spec.get("serviceAccountName", "default") == "default":
        yield "the pod uses the default ServiceAccount"


def _secret_env(pod: PodTemplate) -> Iterator[str]:
    for c in pod.all_containers:
        names = [e["name"] for e in c.get("env") or []
                 if "secretKeyRef" in (e.get("valueFrom") or {})]
        if names or any("secretRef" in e for e in c.get("envFrom") or []):
            yield f"container {_name(c)} reads Secrets into {', '.join(names) or 'envFrom'}"


def _gpu_limits(pod: PodTemplate) -> Iterator[str]:
    for c in pod.all_containers:
        res = c.get("resources") or {}
        requests, limits = res.get("requests") or {}, res.get("limits") or {}
        for key in sorted({*requests, *limits}):
            if key.startswith(GPU_PREFIXES) and str(requests.get(key, limits.get(key))) != \
                    str(limits.get(key)):
                yield (f"container {_name(c)}: {key} requests {requests.get(key)} but limits "
                       f"{limits.get(key)} (extended resources must be equal in both)")


def _placeholder_checksum(pod: PodTemplate) -> Iterator[str]:
    # The pinned sha256 reaches the pod as the template's annotation and in the download
    # container's environment (AIPLAT_PREFETCH); a LoRA adapter's only in the environment.
    template = ((pod.obj.get("spec") or {}).get("template") or {}).get("metadata") or {}
    found = False
    for key, value in sorted((template.get("annotations") or {}).items()):
        if SHA256_PLACEHOLDER in str(value):
            found = True
            yield f"annotation {key} is the placeholder sha256 (64 zeros)"
    for c in ([] if found else pod.all_containers):
        names = [e.get("name") for e in c.get("env") or []
                 if SHA256_PLACEHOLDER in str(e.get("value", ""))]
        if names:
            yield (f"container {_name(c)}: {', '.join(map(str, names))} pins weights to the "
                   "placeholder sha256 (64 zeros); the download refuses every file")


def _mounted_scratch(pod: PodTemplate, container: Obj) -> Decimal:
    """The sizeLimits of the disk-backed emptyDirs a container mounts."""
    volumes = {v.get("name"): v["emptyDir"] for v in pod.spec.get("volumes") or []
               if isinstance(v.get("emptyDir"), dict) and v["emptyDir"].get("medium") != "Memory"}
    names = {m.get("name") for m in container.get("volumeMounts") or []}
    return sum((_quantity(volumes[n].get("sizeLimit")) for n in names if n in volumes),
               Decimal(0))


def _quantity(value: Any) -> Decimal:
    try:
        return parse_quantity(str(value)) if value is not None else Decimal(0)
    except ValueError:
        return Decimal(0)


def _ephemeral(pod: PodTemplate) -> Iterator[str]:
    """Kubernetes counts disk-backed emptyDirs, writable layers and logs against the pod's
    ephemeral storage (docs: "Local ephemeral storage"): every such emptyDir is bounded, every
    container requests and limits `ephemeral-storage`, at least the sizeLimits of the emptyDirs
    it mounts, and the pod's effective request (sum of its containers, or its largest init
    container) covers all of its emptyDirs."""
    scratch = Decimal(0)
    for v in pod.spec.get("volumes") or []:
        empty = v.get("emptyDir")
        if isinstance(empty, dict) and empty.get("medium") != "Memory":
            if empty.get("sizeLimit") is None:
                yield f"emptyDir {v.get('name')} has no sizeLimit"
            scratch += _quantity(empty.get("sizeLimit"))
    effective, largest_init = Decimal(0), Decimal(0)
    for c in pod.all_containers:
        res = c.get("resources") or {}
        request = (res.get("requests") or {}).get(EPHEMERAL)
        if request is None or (res.get("limits") or {}).get(EPHEMERAL) is None:
            yield f"container {_name(c)} sets no ephemeral-storage request and limit"
            continue
        need = _mounted_scratch(pod, c)
        if _quantity(request) < need:
            yield (f"container {_name(c)} requests ephemeral-storage {request}, less than the "
                   f"sizeLimits of the emptyDirs it mounts ({need} bytes)")
        if c in pod.init_containers:
            largest_init = max(largest_init, _quantity(request))
        else:
            effective += _quantity(request)
    if max(effective, largest_init) < scratch and pod.all_containers:
        yield (f"the pod requests {max(effective, largest_init)} bytes of ephemeral-storage, "
               f"less than its emptyDirs' sizeLimits ({scratch} bytes)")


POD_CHECKS: dict[str, Check] = {
    "privileged": _privileged, "privilege-escalation": _escalation,
    "run-as-non-root": _non_root, "high-uid": _high_uid, "capabilities": _capabilities,
    "seccomp": _seccomp, "host-namespaces": _host_namespaces, "host-path": _host_path,
    "read-only-root-fs": _read_only, "probes": _probes,
    "cpu-requests": _resource("requests", "cpu"), "cpu-limits": _resource("limits", "cpu"),
    "memory-requests": _resource("requests", "memory"),
    "memory-limits": _resource("limits", "memory"),
    "image-tag": _image_tag, "image-digest": _image_digest, "image-pull-policy": _pull_policy,
    "service-account-token": _token, "service-account": _service_account,
    "secrets-in-env": _secret_env, "gpu-limits": _gpu_limits, "ephemeral-storage": _ephemeral,
    "weights-checksum": _placeholder_checksum,
}
