"""What the rendered tree refers to but does not create, and where the profile refers to it.

The tree names StorageClasses in its volume claims, an External Secrets store in its
`ExternalSecret`s, Karpenter node classes in its NodePools, a TLS Secret in the gateway listener
(or the NGINX Ingresses), and custom resources or APIs that only a controller serves. Each
`Reference` is one such use at one place of the profile. A reference is satisfied when the
profile declares the thing under `spec.clusterProvides`, or, for controllers, when an operator
Application installs it (`installed_by_application`). `checks.cluster_provides` refuses the
rest; `output/README.md` lists what each environment's cluster must provide.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from aiplat_gen.platform.engines import descriptor
from aiplat_gen.platform.facts.charts import CHART_NAMESPACES
from aiplat_gen.platform.facts.controllers import CONTROLLERS
from aiplat_gen.platform.scraping import scrape_targets
from aiplat_gen.platform.telemetry import monitored_models
from aiplat_gen.profile.schema.cluster_provides import Controller
from aiplat_gen.profile.schema.profile import Profile
from aiplat_gen.profile.schema.secrets import Loc, secret_refs

Section = Literal["storageClasses", "defaultStorageClass", "namespaces", "secretStores",
                  "nodeClasses", "tlsSecrets", "controllers"]
TLS_SECRET = "TLS Secret"

GATEWAY_CONTROLLERS: dict[str, tuple[Controller, ...]] = {
    "gateway-api": ("envoy-gateway",),
    "envoy-ai-gateway": ("envoy-gateway", "envoy-ai-gateway"),
    "kong": ("kong",),
    "nginx": ("ingress-nginx",),
}
"""The controllers each gateway provider needs."""


@dataclass(frozen=True)
class Reference:
    """One use of something the tree does not create, at one place of the profile."""

    section: Section
    """The list of `spec.clusterProvides` that declares it."""
    kind: str
    """What it is: a Kubernetes kind (`StorageClass`, `EC2NodeClass`) or `controller`."""
    name: str
    """Its name (for a controller, its name in `spec.clusterProvides.controllers`)."""
    loc: Loc
    """The value of the profile that refers to it."""
    user: str
    """Who needs it, for people: `model 'llama-8b'`."""
    namespace: str | None = None
    """Where a namespaced thing must exist (a TLS Secret, a namespaced `SecretStore`)."""


def references(profile: Profile) -> list[Reference]:
    """Every reference of the profile, in the order of the sections of `spec.clusterProvides`."""
    return [*storage_classes(profile), *namespaces(profile), *secret_stores(profile),
            *node_classes(profile), *tls_secrets(profile), *controllers(profile)]


def storage_classes(profile: Profile) -> Iterator[Reference]:
    """The StorageClass of every rendered volume that names one."""
    spec = profile.spec
    for index, model in enumerate(spec.models):
        if model.storage is not None and model.storage.storage_class is not None:
            yield Reference("storageClasses", "StorageClass", model.storage.storage_class,
                            ("spec", "models", index, "storage", "storageClass"),
                            f"model {model.name!r}")
    for index, db in enumerate(spec.vector_databases):
        if db.runs_in_cluster and db.storage is not None and db.storage.storage_class:
            yield Reference("storageClasses", "StorageClass", db.storage.storage_class,
                            ("spec", "vectorDatabases", index, "storage", "storageClass"),
                            f"vector database {db.name!r}")
    for index, cache in enumerate(spec.caches):
        if cache.persistent and cache.storage is not None and cache.storage.storage_class:
            yield Reference("storageClasses", "StorageClass", cache.storage.storage_class,
                            ("spec", "caches", index, "storage", "storageClass"),
                            f"cache {cache.name!r}")


def namespaces(profile: Profile) -> Iterator[Reference]:
    """The namespace of the alert rules and dashboard (`spec.observability.namespace`) when
    the profile does not create it: not one of `spec.namespaces`, and not the namespace of
    kube-prometheus-stack while its Application installs the Prometheus operator."""
    spec = profile.spec
    obs = spec.observability
    if obs is None or not monitored_models(profile):
        return
    if obs.namespace in {ns.name for ns in spec.namespaces}:
        return
    if obs.namespace == CHART_NAMESPACES["kube-prometheus-stack"] and \
            installed_by_application(profile, "prometheus-operator"):
        return
    yield Reference("namespaces", "Namespace", obs.namespace,
                    ("spec", "observability", "namespace"), "the alert rules and dashboard")


def secret_stores(profile: Profile) -> Iterator[Reference]:
    """The secret store, once per synced Secret (a namespaced store must be in its namespace)."""
    store = profile.spec.security.secret_store
    if store is None:
        return
    seen: set[tuple[str | None, str]] = set()
    for found in secret_refs(profile):
        key = (found.namespace, found.ref.name)
        if found.ref.remote is None or key in seen:
            continue
        seen.add(key)
        namespace = found.namespace if store.kind == "SecretStore" else None
        yield Reference("secretStores", store.kind, store.name,
                        ("spec", "security", "secretStore", "name"),
                        f"Secret {found.namespace}/{found.ref.name}", namespace)


def node_classes(profile: Profile) -> Iterator[Reference]:
    """The node class of every Karpenter pool."""
    for index, pool in enumerate(profile.spec.node_pools):
        if pool.provisioner == "karpenter" and pool.karpenter is not None:
            ref = pool.karpenter.node_class_ref
            yield Reference("nodeClasses", ref.kind, ref.name,
                            ("spec", "nodePools", index, "karpenter", "nodeClassRef", "name"),
                            f"node pool {pool.name!r}")


def tls_secrets(profile: Profile) -> Iterator[Reference]:
    """The gateway's TLS Secret, in every namespace it is read in: the gateway's (a Gateway
    listener), or for NGINX the namespace of each routed model (an Ingress reads Secrets of its
    own namespace only)."""
    gateway = profile.spec.gateway
    if gateway is None:
        return
    loc: Loc = ("spec", "gateway", "tlsSecretName")
    user = f"gateway {gateway.name!r}"
    if gateway.provider != "nginx":
        yield Reference("tlsSecrets", TLS_SECRET, gateway.tls_secret_name, loc, user,
                        gateway.namespace)
        return
    namespaces = {m.name: m.namespace for m in profile.spec.models}
    routed = {namespaces[r.model] for r in gateway.routes if r.model in namespaces}
    for namespace in sorted(routed):
        yield Reference("tlsSecrets", TLS_SECRET, gateway.tls_secret_name, loc, user, namespace)


def controllers(profile: Profile) -> Iterator[Reference]:
    """Every use of a controller, controller by controller (in the order of `CONTROLLERS`)."""
    found = list(_controller_uses(profile))
    for name in CONTROLLERS:
        yield from (ref for ref in found if ref.name == name)


def _use(name: Controller, loc: Loc, user: str) -> Reference:
    return Reference("controllers", "controller", name, loc, user)


def _controller_uses(profile: Profile) -> Iterator[Reference]:
    spec = profile.spec
    for index, pool in enumerate(spec.node_pools):
        if pool.provisioner == "karpenter":
            yield _use("karpenter", ("spec", "nodePools", index, "provisioner"),
                       f"node pool {pool.name!r}")
        if pool.gpu is not None:
            yield _use("gpu-operator", ("spec", "nodePools", index, "gpu"),
                       f"GPU pool {pool.name!r}")
    for index, model in enumerate(spec.models):
        loc: Loc = ("spec", "models", index)
        user = f"model {model.name!r}"
        engine_info = descriptor(model.engine)
        if engine_info.controller is not None:
            yield _use(engine_info.controller, (*loc, "engine"), user)
        if engine_info.kserve_settings and model.kserve is not None and \
                model.kserve.deployment_mode == "Knative":
            yield _use("knative-serving", (*loc, "kserve", "deploymentMode"), user)
        if model.autoscaling is not None and engine_info.autoscaled:
            engine: Controller = "keda" if model.autoscaling.engine == "keda" \
                else "prometheus-adapter"
            yield _use(engine, (*loc, "autoscaling", "engine"), user)
    for index, db in enumerate(spec.vector_databases):
        if db.engine == "pgvector" and db.pgvector_settings.operator == "cloudnative-pg":
            yield _use("cloudnative-pg",
                       ("spec", "vectorDatabases", index, "pgvector", "operator"),
                       f"vector database {db.name!r}")
    if spec.gateway is not None:
        for name in GATEWAY_CONTROLLERS[spec.gateway.provider]:
            yield _use(name, ("spec", "gateway", "provider"), f"gateway {spec.gateway.name!r}")
    if spec.observability is not None and scrape_targets(profile):
        yield _use("prometheus-operator", ("spec", "observability"), "the monitors")
    operator = spec.gpu_operator
    if operator.enabled and operator.dcgm_service_monitor:
        yield _use("prometheus-operator", ("spec", "gpuOperator", "dcgmServiceMonitor"),
                   "the DCGM ServiceMonitor")
    for found in secret_refs(profile):
        if found.ref.remote is not None:
            yield _use("external-secrets", (*found.loc, "remote"),
                       f"Secret {found.namespace}/{found.ref.name}")


def needed_controllers(profile: Profile) -> list[str]:
    """The controllers the rendered platform needs, in the order of `CONTROLLERS`."""
    used = {ref.name for ref in _controller_uses(profile)}
    return [name for name in CONTROLLERS if name in used]


def installed_by_application(profile: Profile, controller: str) -> bool:
    """Whether an operator Application installs the controller (the same decision as
    `components.argocd_charts.charts_for`, made on the profile alone): the GPU Operator follows
    `spec.gpuOperator.enabled`; another chart follows `spec.gitops.charts.<chart>.enabled`, and
    without that setting is installed when the platform needs it."""
    chart = CONTROLLERS[controller].chart
    if chart is None:
        return False
    if controller == "gpu-operator":
        return profile.spec.gpu_operator.enabled
    gitops = profile.spec.gitops
    setting = next((s for name, s in gitops.charts.items() if name == chart), None) \
        if gitops is not None else None
    if setting is not None and setting.enabled is not None:
        return setting.enabled
    return controller in needed_controllers(profile)


def declared(profile: Profile, section: Section) -> list[str]:
    """The names `spec.clusterProvides.<section>` declares."""
    provides = profile.spec.cluster_provides
    lists: dict[Section, list[str]] = {
        "storageClasses": list(provides.storage_classes),
        "defaultStorageClass": [provides.default_storage_class]
        if provides.default_storage_class else [],
        "namespaces": list(provides.namespaces),
        "secretStores": list(provides.secret_stores),
        "nodeClasses": list(provides.node_classes),
        "tlsSecrets": list(provides.tls_secrets),
        "controllers": list(provides.controllers),
    }
    return lists[section]


def default_class_volumes(profile: Profile) -> Iterator[Reference]:
    """Every rendered volume that names no storage class: it gets the cluster's default class
    (`spec.clusterProvides.defaultStorageClass`)."""
    spec = profile.spec
    name = spec.cluster_provides.default_storage_class or ""
    kind = "default StorageClass"
    for index, model in enumerate(spec.models):
        if model.storage is not None and model.storage.storage_class is None:
            yield Reference("defaultStorageClass", kind, name,
                            ("spec", "models", index, "storage"), f"model {model.name!r}")
    for index, db in enumerate(spec.vector_databases):
        if db.runs_in_cluster and db.storage is not None and db.storage.storage_class is None:
            yield Reference("defaultStorageClass", kind, name,
                            ("spec", "vectorDatabases", index, "storage"),
                            f"vector database {db.name!r}")
    for index, cache in enumerate(spec.caches):
        if cache.persistent and cache.storage is not None and cache.storage.storage_class is None:
            yield Reference("defaultStorageClass", kind, name,
                            ("spec", "caches", index, "storage"), f"cache {cache.name!r}")


def existing_secrets(profile: Profile) -> list[str]:
    """The Secrets the workloads read that nothing syncs (references without `remote`), as
    `namespace/name`, sorted."""
    return sorted({f"{f.namespace}/{f.ref.name}" for f in secret_refs(profile)
                   if f.ref.remote is None and f.namespace is not None})
