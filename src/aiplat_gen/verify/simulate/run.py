"""One environment on a fresh control plane: apply as ArgoCD does, let the controllers work, read
what happened at the minimum and at the maximum replicas.

The steps:

1. Install the CustomResourceDefinitions of the kinds the environment uses (server-side apply:
   some are over the 256 KiB annotation limit of a client-side apply) and wait until each is
   Established.
2. Create what the cluster provides (`simulate.cluster`): nodes, declared storage classes,
   secret stores, node classes, TLS secrets, and the namespaces operator Applications create.
3. Apply every object with server-side apply in ArgoCD's order: sync wave, then kind (Helm's
   install order, which gitops-engine's sync tasks use: Namespace, ResourceQuota, LimitRange,
   ServiceAccount, ... Deployment, StatefulSet), then name. Before the first workload, wait
   for each namespace's `default` ServiceAccount and for each ResourceQuota's usage: until the
   controllers have made them the API server refuses pods for reasons a real cluster never
   shows.
4. Scale each autoscaled workload to its minimum (what KEDA or the HPA would do first), let the
   controllers, the scheduler and the simulated kubelets settle, and read every workload's
   pods; then the same at the maximum.

The simulated kubelet marks a bound pod Running and Ready (StatefulSets with `OrderedReady`
create the next pod only then), and a bound pod of a Job Succeeded (the weights Jobs: the Job
controller then completes the Job, and the scheduler stops counting the pod's requests); the
simulated volume provisioner makes a PersistentVolume for a claim of a declared storage class.
Nothing else is faked.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiplat_gen.verify.kube.api import ApiError, Client
from aiplat_gen.verify.simulate.cluster import NOT_READY_TAINT, volume_for

WAVE_ANNOTATION = "argocd.argoproj.io/sync-wave"
# Helm's install order (helm pkg/releaseutil/kind_sorter.go), which gitops-engine applies within
# a sync wave; other kinds come after these, by name.
KIND_ORDER = ("Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
              "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap",
              "StorageClass", "PersistentVolume", "PersistentVolumeClaim",
              "CustomResourceDefinition", "ClusterRole", "ClusterRoleList",
              "ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding",
              "RoleBindingList", "Service", "DaemonSet", "Pod", "ReplicationController",
              "ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job",
              "CronJob", "IngressClass", "Ingress", "APIService")
WORKLOAD_KINDS = ("Deployment", "StatefulSet")
POD_MAKERS = ("DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
              "StatefulSet", "Job", "CronJob")
SETTLE_TIMEOUT_SECONDS = 120
_POLL_SECONDS = 0.5
_QUIET_ROUNDS = 4
"""Rounds with nothing changing before the cluster counts as settled."""
_QUIET_ROUNDS_SHORT = 16
"""The same while a workload has fewer pods than replicas: its controller retries a refused
create with a growing backoff (and a quota over-count lasts until the quota controller's next
sync), so a refusal is final only after a longer quiet spell."""


@dataclass(frozen=True)
class Refusal:
    """An object the API server refused, in its own words."""

    kind: str
    namespace: str
    name: str
    message: str


@dataclass(frozen=True)
class WorkloadState:
    """One Deployment or StatefulSet at one moment: replicas wanted, pods made and bound."""

    kind: str
    namespace: str
    name: str
    wanted: int
    created: int
    bound: int
    pool_gpus: tuple[tuple[str, str, int], ...]
    """(node pool, GPU resource, count) its bound pods request."""
    problems: tuple[str, ...]
    """The controller's FailedCreate message, or the scheduler's for unbound pods."""

    @property
    def ok(self) -> bool:
        """Every wanted pod exists and is bound to a node."""
        return self.created == self.wanted and self.bound == self.wanted


@dataclass(frozen=True)
class Snapshot:
    """Every workload at the minimum or the maximum replicas."""

    at: str
    workloads: tuple[WorkloadState, ...]
    unbound_claims: tuple[str, ...] = ()

    @property
    def pods_wanted(self) -> int:
        """Pods the workloads want."""
        return sum(w.wanted for w in self.workloads)

    @property
    def pods_bound(self) -> int:
        """Pods bound to a node."""
        return sum(w.bound for w in self.workloads)


@dataclass(frozen=True)
class Scaling:
    """An autoscaled workload and its bounds (from its ScaledObject or HPA)."""

    kind: str
    namespace: str
    name: str
    minimum: int
    maximum: int


@dataclass
class Applied:
    """What applying the environment's objects did."""

    accepted: int = 0
    refusals: list[tuple[dict[str, Any], Refusal]] = field(default_factory=list)


def _wave(obj: dict[str, Any]) -> int:
    raw = (obj.get("metadata", {}).get("annotations") or {}).get(WAVE_ANNOTATION, "0")
    try:
        return int(raw)
    except ValueError:
        return 0


def apply_order(obj: dict[str, Any]) -> tuple[int, int, str, str, str]:
    """ArgoCD's order: sync wave, kind (Helm's order, other kinds last), namespace, name."""
    kind = obj.get("kind", "")
    rank = KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)
    meta = obj.get("metadata", {})
    return (_wave(obj), rank, kind if rank == len(KIND_ORDER) else "",
            meta.get("namespace", ""), meta.get("name", ""))


def refusal(obj: dict[str, Any], exc: ApiError) -> Refusal:
    """The refusal of one object."""
    meta = obj.get("metadata", {})
    return Refusal(obj.get("kind", ""), meta.get("namespace", ""), meta.get("name", ""),
                   exc.message)


def apply_all(client: Client, objects: Iterable[dict[str, Any]],
              before_workloads: Callable[[], None]) -> Applied:
    """Server-side apply every object in ArgoCD's order; `before_workloads` runs once, before
    the first object that makes pods."""
    result = Applied()
    waited = False
    for obj in sorted(objects, key=apply_order):
        if not waited and obj.get("kind") in POD_MAKERS:
            before_workloads()
            waited = True
        try:
            client.apply(obj)
            result.accepted += 1
        except ApiError as exc:
            result.refusals.append((obj, refusal(obj, exc)))
    if not waited:
        before_workloads()
    return result


def wait_for(ready: Callable[[], bool], timeout: float = 30) -> bool:
    """Poll `ready` until it holds or the time is up; whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if ready():
                return True
        except ApiError:
            pass
        time.sleep(_POLL_SECONDS)
    return False


def add_nodes(client: Client, nodes: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    """Create the nodes, write their status (what a kubelet reports), and lift the not-ready
    taint the TaintNodesByCondition admission puts on every new node (the node lifecycle
    controller would, once the node is Ready; it does not run here)."""
    for node, status in nodes:
        name = node["metadata"]["name"]
        created = client.create(node)
        client.merge_patch("v1", "Node", name, {"status": status}, subresource="status")
        taints = [t for t in created.get("spec", {}).get("taints", [])
                  if t.get("key") != NOT_READY_TAINT]
        client.merge_patch("v1", "Node", name, {"spec": {"taints": taints or None}})


def namespaces_ready(client: Client, namespaces: list[str]) -> Callable[[], bool]:
    """True once every namespace has its `default` ServiceAccount and every ResourceQuota
    its usage."""

    def ready() -> bool:
        accounts = {(sa["metadata"]["namespace"], sa["metadata"]["name"])
                    for sa in client.list("v1", "ServiceAccount")}
        if any((ns, "default") not in accounts for ns in namespaces):
            return False
        return all(q.get("status", {}).get("used") is not None
                   for q in client.list("v1", "ResourceQuota"))

    return ready


def scalings(objects: list[dict[str, Any]]) -> list[Scaling]:
    """The autoscaled workloads: KEDA ScaledObjects (minReplicaCount defaults to 0,
    maxReplicaCount to 100: KEDA's ScaledObject specification, keda.sh/docs "Scaling
    Deployments") and HorizontalPodAutoscalers (minReplicas defaults to 1: the
    autoscaling/v2 API reference)."""
    found = []
    for obj in objects:
        spec = obj.get("spec", {})
        namespace = obj.get("metadata", {}).get("namespace", "")
        target = spec.get("scaleTargetRef", {})
        if obj.get("kind") == "ScaledObject":
            found.append(Scaling(target.get("kind", "Deployment"), namespace, target["name"],
                                 int(spec.get("minReplicaCount", 0)),
                                 int(spec.get("maxReplicaCount", 100))))
        elif obj.get("kind") == "HorizontalPodAutoscaler":
            found.append(Scaling(target.get("kind", "Deployment"), namespace, target["name"],
                                 int(spec.get("minReplicas", 1)), int(spec["maxReplicas"])))
    return found


def scale(client: Client, targets: list[Scaling], at: str) -> None:
    """Set each autoscaled workload's replicas to its minimum or maximum, through the scale
    subresource as an autoscaler does."""
    api = {"Deployment": "apps/v1", "StatefulSet": "apps/v1"}
    for target in targets:
        if target.kind not in api:
            continue
        replicas = target.minimum if at == "min" else target.maximum
        try:
            client.merge_patch(api[target.kind], target.kind, target.name,
                               {"spec": {"replicas": replicas}}, target.namespace, "scale")
        except ApiError as exc:
            if exc.status != 404:  # a refused workload has nothing to scale
                raise


class Kubelets:
    """The simulated node agents and volume provisioner: each round marks bound pods Running
    and Ready and makes a volume for each claim of a declared storage class."""

    def __init__(self, client: Client, storage_classes: set[str]) -> None:
        self.client = client
        self.storage_classes = storage_classes
        self._started: set[str] = set()
        self._volumes: set[str] = set()

    def round(self) -> bool:
        """One round; True when it changed something."""
        changed = False
        for claim in self.client.list("v1", "PersistentVolumeClaim"):
            meta = claim["metadata"]
            uid = meta["uid"]
            if (claim.get("status", {}).get("phase") == "Pending" and uid not in self._volumes
                    and claim["spec"].get("storageClassName") in self.storage_classes):
                self.client.create(volume_for(claim))
                self._volumes.add(uid)
                changed = True
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        for pod in self.client.list("v1", "Pod"):
            meta = pod["metadata"]
            if not pod["spec"].get("nodeName") or meta["uid"] in self._started:
                continue
            if any(o.get("kind") == "Job" for o in meta.get("ownerReferences", [])):
                status = _succeeded(pod, now)
            else:
                containers = [{"name": c["name"], "image": c["image"], "ready": True,
                               "restartCount": 0, "started": True, "imageID": "",
                               "state": {"running": {"startedAt": now}}}
                              for c in pod["spec"]["containers"]]
                status = {"phase": "Running", "startTime": now,
                          "conditions": [{"type": t, "status": "True", "lastTransitionTime": now}
                                         for t in ("Initialized", "ContainersReady", "Ready",
                                                   "PodScheduled")],
                          "containerStatuses": containers}
            self.client.merge_patch("v1", "Pod", meta["name"], {"status": status},
                                    meta["namespace"], "status")
            self._started.add(meta["uid"])
            changed = True
        return changed


def _succeeded(pod: dict[str, Any], now: str) -> dict[str, Any]:
    """The status of a pod whose containers all exited 0."""
    containers = [{"name": c["name"], "image": c["image"], "ready": False,
                   "restartCount": 0, "started": False, "imageID": "",
                   "state": {"terminated": {"exitCode": 0, "reason": "Completed",
                                            "startedAt": now, "finishedAt": now}}}
                  for c in pod["spec"]["containers"]]
    return {"phase": "Succeeded", "startTime": now,
            "conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
                           {"type": "Initialized", "status": "True", "lastTransitionTime": now},
                           {"type": "Ready", "status": "False", "reason": "PodCompleted",
                            "lastTransitionTime": now},
                           {"type": "ContainersReady", "status": "False",
                            "reason": "PodCompleted", "lastTransitionTime": now}],
            "containerStatuses": containers}


def settle(client: Client, kubelets: Kubelets, timeout: float = SETTLE_TIMEOUT_SECONDS) -> None:
    """Run the kubelets until nothing changes for a few rounds (more while a workload lacks
    pods): no pod appears, binds or starts and no claim waits for a volume."""
    deadline = time.monotonic() + timeout
    quiet = 0
    last: tuple[Any, ...] = ()
    while time.monotonic() < deadline:
        changed = kubelets.round()
        pods = client.list("v1", "Pod")
        state = tuple(sorted((p["metadata"]["uid"], p["spec"].get("nodeName", ""),
                              p.get("status", {}).get("phase", "")) for p in pods))
        workloads = tuple(sorted((w["metadata"]["uid"], w["spec"].get("replicas"),
                                  w.get("status", {}).get("replicas"))
                                 for kind in WORKLOAD_KINDS
                                 for w in client.list("apps/v1", kind)))
        claims = tuple(sorted((c["metadata"]["uid"], c.get("status", {}).get("phase", ""),
                               c["spec"].get("storageClassName"))
                              for c in client.list("v1", "PersistentVolumeClaim")))
        snapshot = (state, workloads, claims)
        # A claim of a declared class is bound within a second of its volume; one of any other
        # class waits forever, so only the first keeps the cluster from settling.
        binding = any(phase == "Pending" and cls in kubelets.storage_classes
                      for _, phase, cls in claims)
        short = any(wanted is not None and (have or 0) < wanted for _, wanted, have in workloads)
        needed = _QUIET_ROUNDS_SHORT if short else _QUIET_ROUNDS
        quiet = 0 if changed or binding or snapshot != last else quiet + 1
        if quiet >= needed:
            break
        last = snapshot
        time.sleep(_POLL_SECONDS)


def read_state(client: Client, at: str, pools: dict[str, str]) -> Snapshot:
    """Every Deployment and StatefulSet with its pods, and why missing pods are missing.
    `pools` maps node name to pool name."""
    pods = client.list("v1", "Pod")
    events = client.list("v1", "Event")
    failed: dict[tuple[str, str, str], str] = {}
    for event in sorted(events, key=lambda e: e.get("lastTimestamp") or e.get("eventTime")
                        or ""):
        if event.get("reason") == "FailedCreate":
            inv = event.get("involvedObject", {})
            failed[(inv.get("kind", ""), inv.get("namespace", ""), inv.get("name", ""))] = \
                event.get("message", "")
    replica_sets = {(rs["metadata"]["namespace"], rs["metadata"]["name"]): rs
                    for rs in client.list("apps/v1", "ReplicaSet")}
    states = []
    for kind in WORKLOAD_KINDS:
        for workload in client.list("apps/v1", kind):
            meta = workload["metadata"]
            namespace, name = meta["namespace"], meta["name"]
            owners = {("StatefulSet", name)} if kind == "StatefulSet" else {
                ("ReplicaSet", rs_name) for (ns, rs_name), rs in replica_sets.items()
                if ns == namespace and any(o.get("uid") == meta["uid"]
                                           for o in rs["metadata"].get("ownerReferences", []))}
            mine = [p for p in pods if p["metadata"]["namespace"] == namespace
                    and any((o.get("kind"), o.get("name")) in owners
                            for o in p["metadata"].get("ownerReferences", []))
                    and not p["metadata"].get("deletionTimestamp")]
            bound = [p for p in mine if p["spec"].get("nodeName")]
            problems: list[str] = []
            for owner_kind, owner in sorted(owners):
                message = failed.get((owner_kind, namespace, owner))
                if message and len(mine) < int(workload["spec"].get("replicas", 1)):
                    problems.append(message)
            for pod in mine:
                if pod["spec"].get("nodeName"):
                    continue
                for cond in pod.get("status", {}).get("conditions", []):
                    if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
                        problems.append(f"pod {pod['metadata']['name']}: "
                                        f"{cond.get('message', cond.get('reason', ''))}")
            gpus: dict[tuple[str, str], int] = {}
            for pod in bound:
                pool = pools.get(pod["spec"]["nodeName"], "")
                for container in pod["spec"]["containers"]:
                    for resource, value in (container.get("resources", {})
                                            .get("requests", {}).items()):
                        if resource.startswith("nvidia.com/"):
                            gpus[(pool, resource)] = gpus.get((pool, resource), 0) + int(value)
            states.append(WorkloadState(
                kind, namespace, name, int(workload["spec"].get("replicas", 1)), len(mine),
                len(bound), tuple((p, r, n) for (p, r), n in sorted(gpus.items())),
                tuple(dict.fromkeys(problems))))
    claims = tuple(sorted(f"{c['metadata']['namespace']}/{c['metadata']['name']} "
                          f"(storageClass {c['spec'].get('storageClassName')})"
                          for c in client.list("v1", "PersistentVolumeClaim")
                          if c.get("status", {}).get("phase") != "Bound"))
    return Snapshot(at, tuple(sorted(states, key=lambda s: (s.namespace, s.kind, s.name))),
                    claims)
