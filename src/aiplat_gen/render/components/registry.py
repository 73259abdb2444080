"""The component registry: each entry turns the profile into objects for one folder of base/.

Components are listed explicitly, in render order; adding one means adding a module and a line.
Each serving engine has its component, named after the engine (`serving_component`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import assert_never

from aiplat_gen.platform.engines import ENGINES
from aiplat_gen.profile.schema.serving import Engine
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


def serving_component(engine: Engine) -> Component:
    """The component that renders the models of one engine (their servers' containers)."""
    match engine:
        case "vllm":
            return vllm.render
        case "triton":
            return triton.render
        case "kserve":
            return kserve.render
        case _:
            assert_never(engine)


COMPONENTS: dict[str, Component] = {
    "cluster": cluster.render,
    "gpu-operator": gpu_operator.render,
    **{engine: serving_component(engine) for engine in ENGINES},
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
