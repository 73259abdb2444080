"""The container images the profiles pin: what CI scans for vulnerabilities before deployment.

Every `image` of a container, init container or ephemeral container anywhere in the objects the
profiles render (Deployments, StatefulSets, Jobs, and custom resources that embed containers such
as KServe serving runtimes). Images that operator charts choose themselves are not listed: they
are pinned by the chart version.
"""

from __future__ import annotations

from typing import Any

from aiplat_gen.checks.selection import Settings, select, validate_many
from aiplat_gen.render.components.base import RenderContext
from aiplat_gen.render.pipeline import render_full

CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


def pinned_images(refs: list[str], all_profiles: bool, settings: Settings) -> list[str]:
    """Sorted, unique images of every container the selected profiles render."""
    images: set[str] = set()
    for vp in validate_many(select(refs, all_profiles, settings)):
        for item in render_full(RenderContext(vp.profile, settings.templates_dir)).objects:
            images |= images_in(item.obj)
    return sorted(images)


def images_in(node: Any) -> set[str]:
    """Images of the containers anywhere inside one object."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in CONTAINER_LISTS and isinstance(value, list):
                found |= {c["image"] for c in value
                          if isinstance(c, dict) and isinstance(c.get("image"), str)}
            found |= images_in(value)
    elif isinstance(node, list):
        for item in node:
            found |= images_in(item)
    return found
