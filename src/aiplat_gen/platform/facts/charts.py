"""The operator charts aiplat-gen deploys with ArgoCD, each pinned, and where each goes. When a
profile needs one is decided in `render.components.argocd_charts`.

Sources of the pins (checked 2026-11): GPU Operator v26.7.0 (the values aiplat-gen writes are for
it; `spec.gpuOperator.chartVersion`); KEDA 2.20.2 (kedacore/keda release issue #7942); kube-
prometheus-stack 86.3.2 (prometheus-community/helm-charts release notes); External Secrets 2.10.0
(chart tag `helm-chart-2.10.0`); CloudNativePG 0.28.3 (cloudnative-pg/charts release); Envoy
Gateway v1.9.0 (its "Install with Argo CD" page, OCI chart `docker.io/envoyproxy/gateway-helm`).
`ServerSideApply` is set where a CRD is larger than the 256 KiB `last-applied-configuration`
annotation allows (KEDA `scaledjobs`, Prometheus operator `prometheuses`, External Secrets
stores, CloudNativePG `clusters`, Envoy Gateway `envoyproxies`); the GPU Operator's ClusterPolicy
CRD (about 160 KiB at v26.7.0) fits. Namespaces the charts create get Pod Security `privileged`
where the chart needs it: the GPU Operator (driver, toolkit, device plugin) and
kube-prometheus-stack (node-exporter uses hostNetwork, hostPID and hostPath;
prometheus-community/helm-charts#4837).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

ARGOCD_CM = "argocd-cm"
APPLICATION_HEALTH_KEY = "resource.customizations.health.argoproj.io_Application"
APPLICATION_HEALTH_LUA = """\
hs = {}
hs.status = "Progressing"
hs.message = ""
if obj.status ~= nil then
  if obj.status.health ~= nil then
    hs.status = obj.status.health.status
    if obj.status.health.message ~= nil then
      hs.message = obj.status.health.message
    end
  end
end
return hs
"""
"""The health check of `argoproj.io/Application` that ArgoCD removed from its defaults in 1.8,
as its docs give it to restore (argoproj/argo-cd docs/operator-manual/health.md, "Argo CD App";
docs/operator-manual/upgrading/1.7-1.8.md). Without it the sync waves of an app of apps do not
wait for a child Application to be healthy."""
SKIP_DRY_RUN = "SkipDryRunOnMissingResource=true"
"""Sync option: apply custom resources whose CRD does not exist yet instead of failing the dry
run (argoproj/argo-cd docs/user-guide/sync-options.md, "Skip Dry Run for new custom resources
types"); with unlimited retries the platform syncs once the operators have installed them."""

# Waves of the root Application: projects first, then the Prometheus operator (other charts'
# ServiceMonitors need its CRDs), then the other operators, then the platform that uses them all.
PROJECT_WAVE = -10
PLATFORM_WAVE = 0
GPU_OPERATOR = "gpu-operator"


@dataclass(frozen=True)
class Chart:
    """One operator chart: where it comes from and where it goes."""

    name: str
    """Key in this table, `spec.gitops.charts`, the Helm release and `helm/<name>/` values."""
    repo_url: str
    chart: str
    version: str
    namespace: str
    wave: int
    server_side_apply: bool
    pod_security: str | None
    """Pod Security level its namespace needs when the platform does not render that namespace
    (None: the cluster's default)."""


CHARTS: tuple[Chart, ...] = (
    Chart("kube-prometheus-stack", "https://prometheus-community.github.io/helm-charts",
          "kube-prometheus-stack", "86.3.2", "monitoring", -3, True, "privileged"),
    Chart("external-secrets", "https://charts.external-secrets.io", "external-secrets",
          "2.10.0", "external-secrets", -2, True, None),
    Chart("keda", "https://kedacore.github.io/charts", "keda", "2.20.2", "keda", -2, True,
          None),
    Chart("cloudnative-pg", "https://cloudnative-pg.github.io/charts", "cloudnative-pg",
          "0.28.3", "cnpg-system", -2, True, None),
    Chart("envoy-gateway", "docker.io/envoyproxy", "gateway-helm", "v1.9.0",
          "envoy-gateway-system", -2, True, None),
    Chart(GPU_OPERATOR, "https://helm.ngc.nvidia.com/nvidia", "gpu-operator", "v26.7.0",
          "gpu-operator", -2, False, "privileged"),
)


CHART_NAMESPACES: Mapping[str, str] = MappingProxyType(
    {chart.name: chart.namespace for chart in CHARTS if chart.name != GPU_OPERATOR})
"""The namespace each operator chart is installed in (its Application creates it); the GPU
Operator's is `spec.gpuOperator.namespace`."""
