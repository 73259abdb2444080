"""What rendering produces: objects tagged with their component, and Helm values. Plain data, so
the components (the ArgoCD applications read the other renders) and the pipeline both use it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ObjectKey = tuple[str, str, str, str]


def object_key(obj: dict[str, Any]) -> ObjectKey:
    """(apiVersion, kind, namespace, name): what identifies an object in a tree."""
    meta = obj.get("metadata", {})
    return (str(obj["apiVersion"]), str(obj["kind"]), str(meta.get("namespace", "")),
            str(meta["name"]))


@dataclass(frozen=True)
class RenderedObject:
    """One Kubernetes object and the component (base/ folder) it belongs to."""

    component: str
    obj: dict[str, Any]

    @property
    def key(self) -> ObjectKey:
        """The object's identity."""
        return object_key(self.obj)


@dataclass(frozen=True)
class FullRender:
    """Everything a profile renders to, before layout into base and overlays."""

    objects: tuple[RenderedObject, ...]
    helm_values: dict[str, dict[str, Any]]

    def by_key(self) -> dict[ObjectKey, RenderedObject]:
        """Objects indexed by identity."""
        return {o.key: o for o in self.objects}
