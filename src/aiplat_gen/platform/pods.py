"""Ports and selector labels of the pods aiplat-gen renders: written here once, used by the
components that render the pods and by the platform graph that the network policies follow.
(A model server's ports are its engine's: `platform.engines`.)"""

from __future__ import annotations

MODEL_LABEL = "ai.platform/model"
"""Pod label naming the model a pod serves (copied onto its series as `ai_platform_model`)."""

WEAVIATE_HTTP_PORT = 8080
WEAVIATE_GRPC_PORT = 50051
WEAVIATE_METRICS_PORT = 2112
WEAVIATE_RAFT_PORTS = (8300, 8301)
"""`RAFT_PORT` and `RAFT_INTERNAL_RPC_PORT` defaults (the component sets neither)."""
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
