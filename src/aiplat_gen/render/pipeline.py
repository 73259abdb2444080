"""Turn a validated profile into its full set of objects and Helm values, via the registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiplat_gen.checks.policy.exceptions import apply_exceptions
from aiplat_gen.render.components.base import RenderContext
from aiplat_gen.render.components.registry import COMPONENTS
from aiplat_gen.render.rendered import FullRender, ObjectKey, RenderedObject


class DuplicateObjectError(RuntimeError):
    """Two components rendered the same object: a bug in aiplat-gen, not in the profile."""


def render_full(ctx: RenderContext) -> FullRender:
    """Run every registered component over the profile."""
    objects: list[RenderedObject] = []
    helm: dict[str, dict[str, Any]] = {}
    seen: dict[ObjectKey, str] = {}
    for name, component in COMPONENTS.items():
        result = component(ctx)
        for obj in result.objects:
            # Declared policy exceptions become scanner annotations on the workloads they name.
            item = RenderedObject(name, apply_exceptions(ctx.profile, obj))
            if item.key in seen:
                raise DuplicateObjectError(f"{item.key} rendered by {seen[item.key]} and {name}")
            seen[item.key] = name
            objects.append(item)
        helm.update(result.helm_values)
    return FullRender(tuple(objects), helm)


def render_profile(profile: Any, templates_dir: Path | None = None) -> FullRender:
    """Shorthand: render a typed Profile with the built-in (or overridden) templates."""
    return render_full(RenderContext(profile, templates_dir))
