"""Cross-layer checks: facts pydantic cannot see because they span several parts of a profile.

Each check takes the typed profile and a locator and returns diagnostics; the registry below is
the complete list, run in order, and every finding is reported at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from aiplat_gen.checks import (
    autoscaling,
    cluster,
    cluster_provides,
    data,
    data_capacity,
    gitops,
    limit_ranges,
    pricing,
    secrets,
    security,
    serving,
    serving_capacity,
)
from aiplat_gen.core.errors import Diagnostic
from aiplat_gen.profile.locator import Locator
from aiplat_gen.profile.schema.profile import Profile

Check = Callable[[Profile, Locator], Iterable[Diagnostic]]

CHECKS: tuple[Check, ...] = (
    cluster.unique_names,
    cluster.gpu_products,
    cluster.instance_types,
    cluster.gpu_sharing,
    cluster.namespaces,
    cluster.quotas,
    cluster.priority_classes,
    cluster.node_pool_taints,
    serving.model_references,
    serving.model_sources,
    serving.placeholder_checksums,
    serving.model_settings,
    serving_capacity.tensor_parallel,
    serving_capacity.memory_fit,
    serving_capacity.gpu_quota,
    serving_capacity.pod_resources,
    autoscaling.autoscaling_bounds,
    autoscaling.autoscaling_thresholds,
    autoscaling.prometheus_address,
    autoscaling.alert_thresholds,
    data.data_names,
    data.data_namespaces,
    data.data_node_pools,
    data.data_storage,
    data.pod_ports,
    data.weaviate_cluster,
    data.pgvector_replication,
    data.redis_memory,
    data.references,
    data_capacity.data_quotas,
    limit_ranges.limit_ranges,
    limit_ranges.quota_requirements,
    secrets.literal_secrets,
    secrets.secret_store,
    secrets.secret_conflicts,
    gitops.argocd_names,
    gitops.application_health,
    pricing.gpu_prices,
    security.gateway,
    security.graph_references,
    security.network_prerequisites,
    security.model_env,
    security.rbac_and_exceptions,
    cluster_provides.provided_objects,
    cluster_provides.provided_controllers,
)


def run_checks(profile: Profile, locator: Locator) -> list[Diagnostic]:
    """Run every registered check and collect all findings."""
    return [d for check in CHECKS for d in check(profile, locator)]
