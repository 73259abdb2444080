"""The operator charts aiplat-gen deploys with ArgoCD, each pinned, with the condition under which a
profile needs it.

A chart is needed when the rendered platform uses the custom resources it provides (a
`ScaledObject` needs KEDA), so the list follows the profile without a switch per operator; a
profile can still force a chart on or off, or pin another version, under `spec.gitops.charts`.

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

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from aiplat_gen.platform.facts.controllers import CHART_NAMESPACES
from aiplat_gen.profile.schema.profile import Profile

if TYPE_CHECKING:
    from aiplat_gen.render.pipeline import FullRender

Condition = Callable[[Profile, "FullRender"], bool]

# Waves of the root Application: projects first, then the Prometheus operator (other charts'
# ServiceMonitors need its CRDs), then the other operators, then the platform that uses them all.
PROJECT_WAVE = -10
PLATFORM_WAVE = 0
GPU_OPERATOR = "gpu-operator"
ENVOY_GATEWAY_CONTROLLER = "gateway.envoyproxy.io/gatewayclass-controller"


@dataclass(frozen=True)
class Chart:
    """One operator chart: where it comes from, where it goes, and when the profile needs it."""

    name: str
    """Key in the table, `spec.gitops.charts`, the Helm release and `helm/<name>/` values."""
    repo_url: str
    chart: str
    version: str
    namespace: str
    wave: int
    server_side_apply: bool
    pod_security: str | None
    """Pod Security level its namespace needs when the platform does not render that namespace
    (None: the cluster's default)."""
    needed: Condition


def _groups(objects: Iterable[dict[str, Any]]) -> set[str]:
    return {str(o["apiVersion"]).rpartition("/")[0] for o in objects}


def _uses(*groups: str) -> Condition:
    def condition(profile: Profile, full: FullRender) -> bool:
        return bool(_groups(o.obj for o in full.objects) & set(groups))
    return condition


def _prometheus(profile: Profile, full: FullRender) -> bool:
    operator = profile.spec.gpu_operator
    return (operator.enabled and operator.dcgm_service_monitor) or _uses(
        "monitoring.coreos.com")(profile, full)


def _envoy_gateway(profile: Profile, full: FullRender) -> bool:
    classes = [o.obj for o in full.objects if o.obj["kind"] == "GatewayClass"]
    return any(c.get("spec", {}).get("controllerName") == ENVOY_GATEWAY_CONTROLLER
               for c in classes) or _uses("gateway.envoyproxy.io",
                                          "aigateway.envoyproxy.io")(profile, full)


CHARTS: tuple[Chart, ...] = (
    Chart("kube-prometheus-stack", "https://prometheus-community.github.io/helm-charts",
          "kube-prometheus-stack", "86.3.2", CHART_NAMESPACES["kube-prometheus-stack"], -3, True,
          "privileged", _prometheus),
    Chart("external-secrets", "https://charts.external-secrets.io", "external-secrets",
          "2.10.0", CHART_NAMESPACES["external-secrets"], -2, True, None,
          _uses("external-secrets.io")),
    Chart("keda", "https://kedacore.github.io/charts", "keda", "2.20.2", CHART_NAMESPACES["keda"],
          -2, True, None, _uses("keda.sh")),
    Chart("cloudnative-pg", "https://cloudnative-pg.github.io/charts", "cloudnative-pg",
          "0.28.3", CHART_NAMESPACES["cloudnative-pg"], -2, True, None,
          _uses("postgresql.cnpg.io")),
    Chart("envoy-gateway", "docker.io/envoyproxy", "gateway-helm", "v1.9.0",
          CHART_NAMESPACES["envoy-gateway"], -2, True, None, _envoy_gateway),
    Chart(GPU_OPERATOR, "https://helm.ngc.nvidia.com/nvidia", "gpu-operator", "v26.7.0",
          "gpu-operator", -2, False, "privileged",
          lambda profile, full: profile.spec.gpu_operator.enabled),
)


def charts_for(profile: Profile, full: FullRender) -> list[Chart]:
    """The charts this profile deploys, with the version and namespace it asks for (without
    `spec.gitops`: the charts it needs, at their default versions)."""
    overrides = profile.spec.gitops.charts if profile.spec.gitops is not None else {}
    result = []
    for chart in CHARTS:
        if chart.name == GPU_OPERATOR:
            operator = profile.spec.gpu_operator
            if operator.enabled:
                result.append(replace(chart, version=operator.chart_version,
                                      namespace=operator.namespace))
            continue
        setting = next((s for name, s in overrides.items() if name == chart.name), None)
        wanted = setting.enabled if setting and setting.enabled is not None else chart.needed(
            profile, full)
        if wanted:
            version = setting.version if setting and setting.version else chart.version
            result.append(replace(chart, version=version))
    return result

