"""Lay full renders out as a GitOps tree: `base/` for the root profile, an overlay per other
profile holding only its difference to the parent, and Helm values per chart.

Overlay differences are RFC 6902 JSON patches computed by the `jsonpatch` library (exact for any
kind, including custom resources, where strategic merge would need schemas); objects the parent
lacks are added as resources, objects the child drops are removed with a `$patch: delete` patch.
Helm values per environment hold only the keys that differ from the parent's values; a key the
child drops is set to null, which Helm reads as "remove".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jsonpatch

from aiplat_gen.core import yamlio
from aiplat_gen.render.rendered import FullRender, ObjectKey, RenderedObject

HEADER = ("# Rendered by aiplat-gen from profiles/{profile}.yaml. Do not edit: change the profile "
          "and run `aiplat-gen render`.\n")


@dataclass(frozen=True)
class Unit:
    """A profile to lay out: its name, its parent's name (None for the root) and renders."""

    name: str
    parent: str | None
    render: FullRender


def _file_names(objects: tuple[RenderedObject, ...]) -> dict[ObjectKey, str]:
    """A readable, unique file name per object: `<kind>-<name>.yaml`, namespace added on clash."""
    plain = {o.key: f"{o.obj['kind'].lower()}-{o.key[3]}" for o in objects}
    counts: dict[tuple[str, str], int] = {}
    for o in objects:
        counts[(o.component, plain[o.key])] = counts.get((o.component, plain[o.key]), 0) + 1
    names = {}
    for o in objects:
        stem = plain[o.key]
        if counts[(o.component, stem)] > 1:
            stem = f"{o.obj['kind'].lower()}-{o.key[2]}-{o.key[3]}"
        names[o.key] = f"{o.component}/{stem}.yaml"
    return names


def _header(profile: str) -> str:
    return HEADER.format(profile=profile)


def layout_root(unit: Unit) -> dict[str, str]:
    """Files of `base/` and `helm/<chart>/values.yaml` for the root profile."""
    files: dict[str, str] = {}
    names = _file_names(unit.render.objects)
    components: dict[str, list[str]] = {}
    for obj in unit.render.objects:
        path = names[obj.key]
        files[f"base/{path}"] = _header(unit.name) + yamlio.dump(obj.obj)
        components.setdefault(obj.component, []).append(path.split("/", 1)[1])
    for component, members in components.items():
        files[f"base/{component}/kustomization.yaml"] = _header(unit.name) + _kustomization(
            resources=members)
    files["base/kustomization.yaml"] = _header(unit.name) + _kustomization(
        resources=list(components))
    for chart, values in sorted(unit.render.helm_values.items()):
        files[f"helm/{chart}/values.yaml"] = _header(unit.name) + yamlio.dump(values)
    return files


def layout_overlay(unit: Unit, parent: FullRender, parent_path: str) -> dict[str, str]:
    """Files of `overlays/<name>/` and `helm/<chart>/values-<name>.yaml`: the child's
    difference to its parent."""
    root = f"overlays/{unit.name}"
    files: dict[str, str] = {}
    resources: list[str] = [parent_path]
    patches: list[dict[str, Any]] = []
    before = parent.by_key()
    after = unit.render.by_key()
    names = _file_names(unit.render.objects + tuple(
        o for k, o in before.items() if k not in after))
    for key, obj in after.items():
        rel = names[key]
        old = before.get(key)
        if old is None:
            files[f"{root}/resources/{rel}"] = _header(unit.name) + yamlio.dump(obj.obj)
            resources.append(f"resources/{rel}")
        elif old.obj != obj.obj:
            ops = jsonpatch.make_patch(old.obj, obj.obj).patch
            patch_file = f"patches/{rel.replace('/', '-')}"
            files[f"{root}/{patch_file}"] = _header(unit.name) + yamlio.dump(ops)
            patches.append({"path": patch_file, "target": _target(key)})
    for key in before:
        if key not in after:
            patch_file = f"patches/delete-{names[key].replace('/', '-')}"
            files[f"{root}/{patch_file}"] = _header(unit.name) + yamlio.dump(_delete_patch(key))
            patches.append({"path": patch_file})
    files[f"{root}/kustomization.yaml"] = _header(unit.name) + _kustomization(
        resources=resources, patches=patches)
    charts = sorted(set(unit.render.helm_values) | set(parent.helm_values))
    for chart in charts:
        if chart in unit.render.helm_values:
            diff = values_diff(parent.helm_values.get(chart, {}), unit.render.helm_values[chart])
            files[f"helm/{chart}/values-{unit.name}.yaml"] = _header(unit.name) + yamlio.dump(diff)
    return files



def layout_folder(folder: str, profile: str, objects: list[dict[str, Any]]) -> dict[str, str]:
    """Files of a folder outside the kustomize tree (`argocd/<profile>/`): one file per object and
    a kustomization listing them, so `kubectl apply -k <folder>` applies it. Nothing when there
    are no objects."""
    if not objects:
        return {}
    names = [f"{o['kind'].lower()}-{o['metadata']['name']}.yaml" for o in objects]
    files = {f"{folder}/{name}": _header(profile) + yamlio.dump(obj)
             for name, obj in zip(names, objects, strict=True)}
    files[f"{folder}/kustomization.yaml"] = _header(profile) + _kustomization(resources=names)
    return files

def _kustomization(resources: list[str], patches: list[dict[str, Any]] | None = None) -> str:
    doc: dict[str, Any] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
    }
    if patches:
        doc["patches"] = patches
    return yamlio.dump(doc)


def _target(key: ObjectKey) -> dict[str, str]:
    api_version, kind, namespace, name = key
    group, _, version = api_version.rpartition("/")
    target = {"group": group, "version": version, "kind": kind, "name": name}
    if namespace:
        target["namespace"] = namespace
    return target


def _delete_patch(key: ObjectKey) -> dict[str, Any]:
    api_version, kind, namespace, name = key
    meta = {"name": name} | ({"namespace": namespace} if namespace else {})
    return {"$patch": "delete", "apiVersion": api_version, "kind": kind, "metadata": meta}


def values_diff(parent: Any, child: Any) -> Any:
    """The smallest Helm values overlay that turns parent into child (maps merge, lists replace,
    null removes)."""
    if isinstance(parent, dict) and isinstance(child, dict):
        diff: dict[str, Any] = {}
        for key, value in child.items():
            if key not in parent:
                diff[key] = value
            elif parent[key] != value:
                sub = values_diff(parent[key], value)
                diff[key] = sub
        for key in parent:
            if key not in child:
                diff[key] = None
        return diff
    return child
