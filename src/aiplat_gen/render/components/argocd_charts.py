"""When a profile needs each operator chart (`platform.facts.charts` pins them).

A chart is needed when the rendered platform uses the custom resources it provides (a
`ScaledObject` needs KEDA), so the list follows the profile without a switch per operator; a
profile can still force a chart on or off, or pin another version, under `spec.gitops.charts`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from aiplat_gen.platform.facts.charts import CHARTS, GPU_OPERATOR, Chart
from aiplat_gen.profile.schema.profile import Profile
from aiplat_gen.render.rendered import FullRender

Condition = Callable[[Profile, FullRender], bool]

ENVOY_GATEWAY_CONTROLLER = "gateway.envoyproxy.io/gatewayclass-controller"


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


NEEDED: Mapping[str, Condition] = MappingProxyType({
    "kube-prometheus-stack": _prometheus,
    "external-secrets": _uses("external-secrets.io"),
    "keda": _uses("keda.sh"),
    "cloudnative-pg": _uses("postgresql.cnpg.io"),
    "envoy-gateway": _envoy_gateway,
    GPU_OPERATOR: lambda profile, full: profile.spec.gpu_operator.enabled,
})
"""When each chart is needed, by chart name."""


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
        wanted = setting.enabled if setting and setting.enabled is not None \
            else NEEDED[chart.name](profile, full)
        if wanted:
            version = setting.version if setting and setting.version else chart.version
            result.append(replace(chart, version=version))
    return result

