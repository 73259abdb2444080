"""Ports and selector labels of the pods aiplat-gen renders: written here once, used by the
components that render the pods and by the platform graph that the network policies follow.
(A model server's ports are its engine's: `platform.engines`.)"""

from __future__ import annotations

from aiplat_gen.profile.schema.data import Cache, VectorDatabase

MODEL_LABEL = "ai.platform/model"
"""Pod label naming the model a pod serves (copied onto its series as `ai_platform_model`)."""

WEAVIATE_HTTP_PORT = 8080
WEAVIATE_GRPC_PORT = 50051
WEAVIATE_METRICS_PORT = 2112
WEAVIATE_RAFT_PORTS = (8300, 8301)
"""`RAFT_PORT` and `RAFT_INTERNAL_RPC_PORT` defaults (the component sets neither)."""
WEAVIATE_PROFILING_PORT = 6060
"""`GO_PROFILING_PORT` default; Go profiling is on unless `GO_PROFILING_DISABLE` (the component
sets neither). Weaviate docs, config-refs/env-vars: "Sets the port for the Go profiler. Default:
`6060`"; `RAFT_PORT` 8300 and `RAFT_INTERNAL_RPC_PORT` 8301 in the same table."""
POSTGRES_PORT = 5432
REDIS_PORT = 6379
REDIS_EXPORTER_PORT = 9121
CNPG_STATUS_PORT = 8000
CNPG_METRICS_PORT = 9187
CNPG_LABEL = "cnpg.io/cluster"
"""Label CloudNativePG puts on the pods of a cluster (its value: the cluster's name)."""


def model_selector(name: str) -> dict[str, str]:
    """Labels selecting a model's pods (every engine, KServe predictors included): stable across
    environments and image changes."""
    return {"app.kubernetes.io/instance": name, MODEL_LABEL: name}


WEIGHTS_FOR_LABEL = "ai.platform/weights-for"
"""Pod label of a weights Job naming the model whose volume it fills. A weights Job's pods carry
no `ai.platform/model` label: nothing selecting a model's server pods (Service, PDB, network
policy, monitors) selects them."""


def weights_job_selector(name: str) -> dict[str, str]:
    """Labels selecting the pods of a model's weights Jobs (`render.components.weights_job`)."""
    return {WEIGHTS_FOR_LABEL: name}


def store_selector(name: str) -> dict[str, str]:
    """Labels selecting a data store's pods: stable across environments and image upgrades."""
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": name}


def weaviate_ports(gossip: int, metrics: bool) -> dict[str, int]:
    """Every port a Weaviate pod listens on, by name: the client ports, gossip (TCP and UDP on
    one port) and the data port right after it (Weaviate requires data = gossip + 1), Raft,
    Go profiling, and metrics when enabled. The component declares its container ports from
    this; the `data.pod_ports` check refuses two names on one port."""
    ports = {"http": WEAVIATE_HTTP_PORT, "grpc": WEAVIATE_GRPC_PORT, "gossip": gossip,
             "data": gossip + 1, "raft": WEAVIATE_RAFT_PORTS[0],
             "raft-rpc": WEAVIATE_RAFT_PORTS[1], "profiling": WEAVIATE_PROFILING_PORT}
    if metrics:
        ports["metrics"] = WEAVIATE_METRICS_PORT
    return ports


def data_pod_ports(store: VectorDatabase | Cache) -> dict[str, int]:
    """The ports one pod of a data store listens on, by name (every container of the pod: they
    share the network namespace). Only Weaviate's can be configured (`weaviate.gossipPort`)."""
    if isinstance(store, Cache):
        return {"redis": REDIS_PORT, **({"metrics": REDIS_EXPORTER_PORT}
                                        if store.redis.exporter else {})}
    if store.engine == "weaviate":
        settings = store.weaviate_settings
        return weaviate_ports(settings.gossip_port, settings.metrics)
    if store.engine == "pgvector":
        if store.pgvector_settings.operator == "cloudnative-pg":
            return {"postgres": POSTGRES_PORT, "status": CNPG_STATUS_PORT,
                    "metrics": CNPG_METRICS_PORT}
        return {"postgres": POSTGRES_PORT}
    return {}
