"""The component registry: each entry turns the profile into objects for one folder of base/.

Components are listed explicitly, in render order; adding one means adding a module and a line.
"""

from __future__ import annotations

from collections.abc import Callable

from aiplat_gen.render.components import (
    autoscaling,
    cluster,
    gateway,
    gpu_operator,
    kserve,
    network_policies,
    observability,
    postgres,
    rbac,
    redis,
    secrets,
    triton,
    vllm,
    weaviate,
)
from aiplat_gen.render.components.base import RenderContext, Rendered

Component = Callable[[RenderContext], Rendered]

COMPONENTS: dict[str, Component] = {
    "cluster": cluster.render,
    "gpu-operator": gpu_operator.render,
    "vllm": vllm.render,
    "triton": triton.render,
    "kserve": kserve.render,
    "autoscaling": autoscaling.render,
    "observability": observability.render,
    "weaviate": weaviate.render,
    "postgres": postgres.render,
    "redis": redis.render,
    "external-secrets": secrets.render,
    "gateway": gateway.render,
    "rbac": rbac.render,
    "network-policies": network_policies.render,
}
