"""The component registry: each entry turns the profile into objects for one folder of base/.

Components are listed explicitly, in render order; adding one means adding a module and a line.
"""

from __future__ import annotations

from collections.abc import Callable

from aiplat_gen.components import cluster, gpu_operator
from aiplat_gen.components.base import RenderContext, Rendered

Component = Callable[[RenderContext], Rendered]

COMPONENTS: dict[str, Component] = {
    "cluster": cluster.render,
    "gpu-operator": gpu_operator.render,
}
