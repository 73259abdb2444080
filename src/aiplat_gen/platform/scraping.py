"""What Prometheus scrapes: one target per metrics port the platform opens, written once for the
platform graph (whose Prometheus edges the network policies follow) and for the monitors
(`render.components.observability`), so that a port opened to Prometheus always has a
ServiceMonitor or PodMonitor and a monitor never names a port the policies keep closed.

- every model server on its metrics port (`platform.engines`): vLLM and Triton on their
  engine's, a KServe predictor on its runtime's where aiplat-gen declares that port
  (`Standard` mode: `engines.kserve.declared_ports`; prometheus-operator drops targets on
  undeclared ports, so a `Knative` predictor is not scraped and its port stays closed to
  Prometheus);
- Redis with `redis.exporter`: redis_exporter's `metrics` port (9121);
- Weaviate with `weaviate.metrics`: its `metrics` port (2112);
- PostgreSQL run by CloudNativePG: the instance manager's exporter, "on port 9187, named
  `metrics`", on the pods labelled `cnpg.io/cluster: <cluster>` (CloudNativePG docs,
  "Monitoring", 1.28). aiplat-gen writes the PodMonitor itself: the Cluster's
  `spec.monitoring.enablePodMonitor` is deprecated ("This feature will be removed in an upcoming
  release. If you need this functionality, you can create a PodMonitor manually.",
  postgresql.cnpg.io Cluster CRD v1.28, /work/shared/crds/postgresql.cnpg.io/clusters.yaml).

Without `spec.observability` the profile declares no Prometheus: nothing is scraped, so the
graph opens no port to Prometheus and no monitor is rendered.

Data stores are scraped through PodMonitors on the pods' named port (the CloudNativePG pods are
the operator's, so only their pod port is known); the scrape path is left to Prometheus's
default, `/metrics`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from aiplat_gen.platform.engines import descriptor, runtime_of
from aiplat_gen.platform.engines.kserve import declared_ports
from aiplat_gen.platform.pods import (
    CNPG_LABEL,
    CNPG_METRICS_PORT,
    REDIS_EXPORTER_PORT,
    WEAVIATE_METRICS_PORT,
    model_selector,
    store_selector,
)
from aiplat_gen.profile.schema.data import Cache, VectorDatabase
from aiplat_gen.profile.schema.profile import Profile

METRICS_PORT_NAME = "metrics"


@dataclass(frozen=True)
class ScrapeTarget:
    """Pods Prometheus scrapes on one named port."""

    kind: Literal["model", "store"]
    name: str
    """The model's or store's name (the monitor's name)."""
    namespace: str
    pod_labels: dict[str, str]
    """Labels selecting the pods."""
    port_name: str
    port: int
    path: str | None
    """The HTTP path; None: Prometheus's default (`/metrics`)."""


def is_cnpg(store: VectorDatabase | Cache) -> bool:
    """PostgreSQL run by the CloudNativePG operator."""
    return isinstance(store, VectorDatabase) and store.engine == "pgvector" and \
        store.pgvector_settings.operator == "cloudnative-pg"


def store_pod_labels(store: VectorDatabase | Cache) -> dict[str, str]:
    """Labels selecting a store's pods (CloudNativePG labels its instances itself)."""
    return {CNPG_LABEL: store.name} if is_cnpg(store) else store_selector(store.name)


def store_metrics_port(store: VectorDatabase | Cache) -> int | None:
    """The port a store's pods export metrics on (named `metrics`), or None."""
    if isinstance(store, Cache):
        return REDIS_EXPORTER_PORT if store.redis.exporter else None
    if store.engine == "weaviate":
        return WEAVIATE_METRICS_PORT if store.weaviate_settings.metrics else None
    return CNPG_METRICS_PORT if is_cnpg(store) else None


def scrape_targets(profile: Profile) -> list[ScrapeTarget]:
    """Every target Prometheus scrapes, models first, in profile order (none without
    `spec.observability`)."""
    targets: list[ScrapeTarget] = []
    if profile.spec.observability is None:
        return targets
    for model in profile.spec.models:
        engine = descriptor(model.engine)
        served = runtime_of(model).metrics_port or engine.metrics_port
        if engine.kserve_settings and served not in declared_ports(model, runtime_of(model)):
            continue
        targets.append(ScrapeTarget("model", model.name, model.namespace,
                                    model_selector(model.name), served.name, served.number,
                                    engine.metrics_path))
    stores: list[VectorDatabase | Cache] = [*profile.spec.vector_databases, *profile.spec.caches]
    for store in stores:
        if isinstance(store, VectorDatabase) and not store.runs_in_cluster:
            continue
        port = store_metrics_port(store)
        if port is not None:
            targets.append(ScrapeTarget("store", store.name, store.namespace,
                                        store_pod_labels(store), METRICS_PORT_NAME, port, None))
    return targets
