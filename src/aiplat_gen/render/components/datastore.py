"""What the data-layer workloads (Weaviate, Redis, PostgreSQL) share.

Every data store pod

- runs on its node pool (`nodePool`, default the first CPU pool) with the pool's selector and
  tolerations, and (with more than one replica) a required pod anti-affinity on
  `kubernetes.io/hostname`, so no two replicas share a node;
- is `restricted`: non-root with the image's own UID, no privilege escalation, all capabilities
  dropped, seccomp `RuntimeDefault`; no service-account token and no service-link variables
  (a data store talks to no Kubernetes API);
- requests CPU and memory; the memory limit equals the request
  (`workload_resources.data_container`);
- with more than one replica gets a PodDisruptionBudget allowing one pod down at a time (a
  single-replica store gets none: it would block every node drain).
"""

from __future__ import annotations

from typing import Any

from aiplat_gen.platform.pods import store_selector
from aiplat_gen.platform.resolved import resolve
from aiplat_gen.platform.scheduling import placement
from aiplat_gen.profile.schema.data import DataStore, Storage
from aiplat_gen.profile.schema.secrets import SecretRef
from aiplat_gen.render.components.base import RenderContext, labels

HOSTNAME_TOPOLOGY = "kubernetes.io/hostname"


def image_version(image: str) -> str | None:
    """The tag of an image reference (`redis:7.4.2` -> `7.4.2`), if it has one."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def store_labels(ctx: RenderContext, name: str, component: str, image: str | None,
                 **extra: str) -> dict[str, str]:
    """The recommended labels, with the image tag as the app version."""
    return labels(ctx.profile, name, component, image_version(image) if image else None, **extra)


def selector(name: str) -> dict[str, str]:
    """Pod selector labels: stable across environments and image upgrades
    (`platform.pods.store_selector`, which the network policies select too)."""
    return store_selector(name)


def scheduling(ctx: RenderContext, store: DataStore, replicas: int) -> dict[str, Any]:
    """nodeSelector, tolerations and (for several replicas) anti-affinity of a store's pods."""
    pool = resolve(ctx.profile).data_service(store).pool
    assert pool is not None, f"{store.name}: no node pool (the data checks report this)"
    place = placement(pool)
    result: dict[str, Any] = {"node_selector": place.node_selector,
                              "tolerations": place.tolerations, "affinity": None}
    if replicas > 1:
        result["affinity"] = {"podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": selector(store.name)},
                 "topologyKey": HOSTNAME_TOPOLOGY},
            ]}}
    return result


def pod_security_context(uid: int) -> dict[str, Any]:
    """Pod-level `restricted` settings for the image's UID; fsGroup owns the data volume."""
    return {"runAsNonRoot": True, "runAsUser": uid, "runAsGroup": uid, "fsGroup": uid,
            "fsGroupChangePolicy": "OnRootMismatch",
            "seccompProfile": {"type": "RuntimeDefault"}}


def container_security_context(read_only_root: bool = True) -> dict[str, Any]:
    """Container-level `restricted` settings."""
    return {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": read_only_root,
            "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}}


def volume_claim(name: str, storage: Storage) -> dict[str, Any]:
    """A `volumeClaimTemplates` entry: one ReadWriteOnce volume per pod."""
    spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"]}
    if storage.storage_class is not None:
        spec["storageClassName"] = storage.storage_class
    spec["resources"] = {"requests": {"storage": storage.size}}
    return {"metadata": {"name": name}, "spec": spec}


def secret_env(env_name: str, ref: SecretRef) -> dict[str, Any]:
    """An env var read from a Secret key."""
    return {"name": env_name, "valueFrom": {"secretKeyRef": {"name": ref.name, "key": ref.key}}}


def plain_env(pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Env vars with literal (non-secret) values."""
    return [{"name": k, "value": v} for k, v in pairs]


def service(ctx: RenderContext, name: str, namespace: str, obj_labels: dict[str, str],
            sel: dict[str, str], ports: list[dict[str, Any]],
            headless: bool = False) -> list[dict[str, Any]]:
    """A ClusterIP Service, or a headless one that also publishes not-ready pods (peers must
    find each other before they are ready)."""
    return ctx.render("datastore/service.yaml.j2", name=name, namespace=namespace,
                      labels=obj_labels, selector=sel, ports=ports, headless=headless)


def disruption_budget(ctx: RenderContext, name: str, namespace: str,
                      obj_labels: dict[str, str], replicas: int) -> list[dict[str, Any]]:
    """A PodDisruptionBudget allowing one pod down, or nothing for a single replica."""
    if replicas < 2:
        return []
    return ctx.render("datastore/pdb.yaml.j2", name=name, namespace=namespace, labels=obj_labels,
                      selector=selector(name), max_unavailable=1)


def pod_view(ctx: RenderContext, store: DataStore, replicas: int, uid: int,
             containers: list[dict[str, Any]], volumes: list[dict[str, Any]],
             termination_grace: int = 30) -> dict[str, Any]:
    """Template values of a data store's pod template."""
    return {"pod_security": pod_security_context(uid), **scheduling(ctx, store, replicas),
            "containers": containers, "volumes": volumes,
            "termination_grace": termination_grace}
