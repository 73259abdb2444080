"""NVIDIA GPU Operator Helm values (`helm/gpu-operator/values.yaml`), for chart v26.7.0.

- MIG: `mig.strategy` from the profile; MIG pools select their layout per node with the label
  `nvidia.com/mig.config: all-<profile>` (a layout the MIG manager generates from the hardware),
  so no custom mig-parted config is needed.
- Time-slicing: one `devicePlugin.config` entry per time-sliced pool, chosen per node by the label
  `nvidia.com/device-plugin.config`; nodes without that label get the `default` entry.
- DCGM exporter: its ServiceMonitor's `honorLabels` decides whether GPU metrics name the
  workload as `exported_pod`/`exported_namespace` (false, the chart default) or `pod`/`namespace`.
  With `spec.observability`, it carries `prometheus.monitorLabels` (`additionalLabels`), so the
  platform's Prometheus selects it.
- `operator.defaultRuntime` is not written: the chart removed it in v25.3.0.
"""

from __future__ import annotations

from typing import Any

from aiplat_gen.core import yamlio
from aiplat_gen.platform.scheduling import time_slicing_config_name
from aiplat_gen.render.components.base import RenderContext, Rendered

CHART = "gpu-operator"
DEVICE_PLUGIN_CONFIGMAP = "aiplat-device-plugin-config"


def render(ctx: RenderContext) -> Rendered:
    """The GPU Operator values, or nothing when the operator is disabled."""
    operator = ctx.profile.spec.gpu_operator
    if not operator.enabled:
        return Rendered()
    pools = [p for p in ctx.profile.spec.node_pools if p.gpu is not None]
    driver: dict[str, Any] = {"enabled": operator.driver_enabled}
    if operator.driver_version and operator.driver_enabled:
        driver["version"] = operator.driver_version
    values = ctx.render(
        "gpu-operator/values.yaml.j2",
        mig_strategy=operator.mig_strategy,
        driver=driver,
        toolkit_enabled=operator.toolkit_enabled,
        device_plugin_config=_device_plugin_config(ctx),
        service_monitor=operator.dcgm_service_monitor,
        scrape_interval=operator.scrape_interval,
        honor_labels=operator.dcgm_honor_labels,
        # The Prometheus selects ServiceMonitors by label: the DCGM one must carry the same.
        monitor_labels=(ctx.profile.spec.observability.prometheus.monitor_labels
                        if ctx.profile.spec.observability else {}),
        mig_manager=any(p.gpu and p.gpu.sharing.mode == "mig" for p in pools),
    )
    return Rendered(helm_values={CHART: values[0]})


def _device_plugin_config(ctx: RenderContext) -> dict[str, Any] | None:
    sliced = [p for p in ctx.profile.spec.node_pools
              if p.gpu is not None and p.gpu.sharing.mode == "time-slicing"]
    if not sliced:
        return None
    data = {"default": yamlio.dump(
        {"version": "v1", "flags": {"migStrategy": ctx.profile.spec.gpu_operator.mig_strategy}})}
    for pool in sliced:
        assert pool.gpu is not None
        data[time_slicing_config_name(pool)] = yamlio.dump({
            "version": "v1",
            "flags": {"migStrategy": "none"},
            "sharing": {"timeSlicing": {"resources": [
                {"name": "nvidia.com/gpu", "replicas": pool.gpu.sharing.replicas},
            ]}},
        })
    return {"create": True, "name": DEVICE_PLUGIN_CONFIGMAP, "default": "default", "data": data}
