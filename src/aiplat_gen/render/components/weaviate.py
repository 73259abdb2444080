"""Weaviate (1.25+) vector databases: one StatefulSet per `engine: weaviate` entry.

Clustering, with the settings that make a multi-node Weaviate start at all:

- `CLUSTER_HOSTNAME` is the pod name; `CLUSTER_GOSSIP_BIND_PORT` (default 7000) and
  `CLUSTER_DATA_BIND_PORT` (always gossip + 1) are both set: setting only one makes every pod
  exit at start;
- `CLUSTER_JOIN` is the headless Service `<name>-headless`, which publishes not-ready pods so
  peers find each other before they are ready; pods start in parallel
  (`podManagementPolicy: Parallel`);
- `RAFT_JOIN` names the voter pods (`<name>-0` ...) and `RAFT_BOOTSTRAP_EXPECT` their number:
  1 voter below 3 replicas, 3 below 10, else 5 (the Weaviate chart's rule), or `raftVoters`.

Access: API-key authentication with anonymous access off; the allowed keys come from a Secret
(`auth.secret`), the user identities from `auth.users`. The client Service `<name>` serves HTTP on
8080 and gRPC on 50051 (and Prometheus metrics on 2112 with `metrics`).

Replication factor is per collection (`replicationConfig.factor` when a collection is created),
not a server setting; keep it at most `replicas`.

Modules from `weaviate.modules` are enabled with `ENABLE_MODULES`; a module's provider API key
comes from its Secret (`OPENAI_APIKEY`, `COHERE_APIKEY`), and its provider host is recorded as
egress for the network policies. Each pod gets a volume from the profile's storage class, probes
on `/v1/.well-known/live` and `/v1/.well-known/ready`, `GOMEMLIMIT` at 90% of the memory limit,
and runs as UID 1000 (the image runs as root by default).
"""

from __future__ import annotations

from typing import Any

from aiplat_gen.platform.facts.images import store_image
from aiplat_gen.platform.pods import (
    WEAVIATE_GRPC_PORT,
    WEAVIATE_HTTP_PORT,
    WEAVIATE_METRICS_PORT,
    weaviate_ports,
)
from aiplat_gen.platform.workload_resources import data_container
from aiplat_gen.profile.schema.data import WEAVIATE_MODULES, VectorDatabase
from aiplat_gen.profile.schema.types import parse_quantity
from aiplat_gen.render.components import datastore
from aiplat_gen.render.components.base import RenderContext, Rendered

COMPONENT = "vector-database"
RUN_AS = 1000
DATA_PATH = "/var/lib/weaviate"
CLUSTER_DOMAIN = "cluster.local"


def render(ctx: RenderContext) -> Rendered:
    """Every Weaviate of the profile: StatefulSet, headless and client Services, PDB."""
    objects: list[dict[str, Any]] = []
    for db in ctx.profile.spec.vector_databases:
        if db.engine == "weaviate":
            objects += _weaviate(ctx, db)
    return Rendered(objects=objects)


def headless_name(db: VectorDatabase) -> str:
    """The headless Service peers join through."""
    return f"{db.name}-headless"


def cluster_env(db: VectorDatabase) -> list[dict[str, Any]]:
    """The clustering variables (docs/facts.md): hostname, both ports, gossip join, Raft voters."""
    gossip = db.weaviate_settings.gossip_port
    voters = [f"{db.name}-{i}" for i in range(db.raft_voters)]
    return [
        {"name": "CLUSTER_HOSTNAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        *datastore.plain_env([
            ("CLUSTER_GOSSIP_BIND_PORT", str(gossip)),
            ("CLUSTER_DATA_BIND_PORT", str(gossip + 1)),
            ("CLUSTER_JOIN", f"{headless_name(db)}.{db.namespace}.svc.{CLUSTER_DOMAIN}"),
            ("RAFT_JOIN", ",".join(voters)),
            ("RAFT_BOOTSTRAP_EXPECT", str(len(voters))),
        ]),
    ]


def _env(db: VectorDatabase) -> list[dict[str, Any]]:
    settings = db.weaviate_settings
    assert db.resources is not None
    memory = int(parse_quantity(db.resources.memory))
    env = cluster_env(db)
    env += datastore.plain_env([
        ("PERSISTENCE_DATA_PATH", DATA_PATH),
        ("AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED", "false"),
        ("AUTHENTICATION_APIKEY_ENABLED", "true"),
    ])
    env.append(datastore.secret_env("AUTHENTICATION_APIKEY_ALLOWED_KEYS", db.auth.secret))
    env += datastore.plain_env([("AUTHENTICATION_APIKEY_USERS", ",".join(db.auth.users))])
    if settings.modules:
        env += datastore.plain_env([("ENABLE_MODULES", ",".join(m.name for m in settings.modules))])
    env += datastore.plain_env([("DEFAULT_VECTORIZER_MODULE", settings.default_vectorizer)])
    seen: set[str] = set()
    for module in settings.modules:
        var = WEAVIATE_MODULES[module.name].api_key_env
        if module.api_key is not None and var is not None and var not in seen:
            seen.add(var)
            env.append(datastore.secret_env(var, module.api_key))
    env += datastore.plain_env([
        ("PROMETHEUS_MONITORING_ENABLED", "true" if settings.metrics else "false"),
        # Go's soft memory limit below the container limit, so the GC works before the OOM kill.
        ("GOMEMLIMIT", f"{memory * 9 // 10 // 2**20}MiB"),
    ])
    return env


def _ports(db: VectorDatabase) -> list[dict[str, Any]]:
    settings = db.weaviate_settings
    port = weaviate_ports(settings.gossip_port, settings.metrics)
    ports = [
        {"name": "http", "containerPort": port["http"], "protocol": "TCP"},
        {"name": "grpc", "containerPort": port["grpc"], "protocol": "TCP"},
        # memberlist gossips over UDP and TCP on the same port.
        {"name": "gossip", "containerPort": port["gossip"], "protocol": "TCP"},
        {"name": "gossip-udp", "containerPort": port["gossip"], "protocol": "UDP"},
        {"name": "data", "containerPort": port["data"], "protocol": "TCP"},
    ]
    if "metrics" in port:
        ports.append({"name": "metrics", "containerPort": port["metrics"], "protocol": "TCP"})
    return ports


def _container(db: VectorDatabase) -> dict[str, Any]:
    assert db.resources is not None
    http = {"port": "http"}
    spec = data_container("weaviate", db.resources)
    return {
        "name": spec.name,
        "image": store_image(db),
        "ports": _ports(db),
        "env": _env(db),
        "resources": spec.resources(),
        # Loading large shards takes minutes: the startup probe covers it, not a long delay.
        "startupProbe": {"httpGet": {"path": "/v1/.well-known/live", **http},
                         "periodSeconds": 10, "failureThreshold": 60, "timeoutSeconds": 3},
        "livenessProbe": {"httpGet": {"path": "/v1/.well-known/live", **http},
                          "periodSeconds": 10, "failureThreshold": 30, "timeoutSeconds": 3},
        "readinessProbe": {"httpGet": {"path": "/v1/.well-known/ready", **http},
                           "periodSeconds": 10, "failureThreshold": 3, "timeoutSeconds": 3},
        "securityContext": datastore.container_security_context(read_only_root=False),
        "volumeMounts": [{"name": "data", "mountPath": DATA_PATH}],
    }


def _weaviate(ctx: RenderContext, db: VectorDatabase) -> list[dict[str, Any]]:
    assert db.storage is not None
    image = store_image(db)
    obj_labels = datastore.store_labels(ctx, db.name, COMPONENT, image)
    sel = datastore.selector(db.name)
    gossip = db.weaviate_settings.gossip_port
    objects = ctx.render(
        "datastore/statefulset.yaml.j2", name=db.name, namespace=db.namespace,
        labels=obj_labels, replicas=db.replicas, service_name=headless_name(db),
        pod_management_policy="Parallel", selector=sel, pod_labels=obj_labels,
        volume_claims=[datastore.volume_claim("data", db.storage)],
        # The Weaviate chart's default: time to flush and leave the cluster cleanly.
        **datastore.pod_view(ctx, db, db.replicas, RUN_AS, [_container(db)], [],
                             termination_grace=600),
    )
    objects += datastore.service(ctx, headless_name(db), db.namespace, obj_labels, sel, [
        {"name": "gossip", "port": gossip, "targetPort": "gossip", "protocol": "TCP"},
        {"name": "gossip-udp", "port": gossip, "targetPort": "gossip-udp", "protocol": "UDP"},
        {"name": "data", "port": gossip + 1, "targetPort": "data", "protocol": "TCP"},
    ], headless=True)
    client_ports = [
        {"name": "http", "port": WEAVIATE_HTTP_PORT, "targetPort": "http", "protocol": "TCP"},
        {"name": "grpc", "port": WEAVIATE_GRPC_PORT, "targetPort": "grpc", "protocol": "TCP"},
    ]
    if db.weaviate_settings.metrics:
        client_ports.append({"name": "metrics", "port": WEAVIATE_METRICS_PORT,
                             "targetPort": "metrics", "protocol": "TCP"})
    objects += datastore.service(ctx, db.name, db.namespace, obj_labels, sel, client_ports)
    objects += datastore.disruption_budget(ctx, db.name, db.namespace, obj_labels, db.replicas)
    return objects
