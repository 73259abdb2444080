"""The files of the GitOps tree: `base/` for the root profile, an overlay per other profile
holding only its difference to the parent, Helm values per chart, and plain folders of objects
(`argocd/<env>/`). Where they go is `aiplat_gen.core.tree_paths`; which run is `output.tree`.

Overlay differences are RFC 6902 JSON patches computed by the `jsonpatch` library (exact for any
kind, including custom resources, where strategic merge would need schemas); objects the parent
lacks are added as resources, objects the child drops are removed with a `$patch: delete` patch.
Helm values per environment hold only the keys that differ from the parent's values; a key the
child drops is set to null, which Helm reads as "remove".
"""

from __future__ import annotations

from typing import Any

import jsonpatch

from aiplat_gen.core import tree_paths as paths
from aiplat_gen.core import yamlio
from aiplat_gen.render.rendered import FullRender, ObjectKey, RenderedObject

HEADER = ("# Rendered by aiplat-gen from profiles/{profile}.yaml. Do not edit: change the profile "
          "and run `aiplat-gen render --all`.\n")


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


def base_files(name: str, render: FullRender) -> dict[str, str]:
    """Files of `base/` for the root profile: one file per object, a kustomization per
    component folder and one listing the folders."""
    files: dict[str, str] = {}
    names = _file_names(render.objects)
    components: dict[str, list[str]] = {}
    for obj in render.objects:
        path = names[obj.key]
        files[f"{paths.BASE}/{path}"] = _header(name) + yamlio.dump(obj.obj)
        components.setdefault(obj.component, []).append(path.split("/", 1)[1])
    for component, members in components.items():
        files[f"{paths.BASE}/{component}/kustomization.yaml"] = _header(name) + _kustomization(
            resources=members)
    files[f"{paths.BASE}/kustomization.yaml"] = _header(name) + _kustomization(
        resources=list(components))
    return files


def overlay_files(name: str, render: FullRender, parent: FullRender, parent_path: str
                  ) -> dict[str, str]:
    """Files of `overlays/<name>/`: the child's difference to its parent, on top of the
    parent's folder (`parent_path`, relative to the overlay)."""
    root = paths.overlay(name)
    files: dict[str, str] = {}
    resources: list[str] = [parent_path]
    patches: list[dict[str, Any]] = []
    before = parent.by_key()
    after = render.by_key()
    names = _file_names(render.objects + tuple(o for k, o in before.items() if k not in after))
    for key, obj in after.items():
        rel = names[key]
        old = before.get(key)
        if old is None:
            files[f"{root}/resources/{rel}"] = _header(name) + yamlio.dump(obj.obj)
            resources.append(f"resources/{rel}")
        elif old.obj != obj.obj:
            ops = jsonpatch.make_patch(old.obj, obj.obj).patch
            patch_file = f"patches/{rel.replace('/', '-')}"
            files[f"{root}/{patch_file}"] = _header(name) + yamlio.dump(ops)
            patches.append({"path": patch_file, "target": _target(key)})
    for key in before:
        if key not in after:
            patch_file = f"patches/delete-{names[key].replace('/', '-')}"
            files[f"{root}/{patch_file}"] = _header(name) + yamlio.dump(_delete_patch(key))
            patches.append({"path": patch_file})
    files[f"{root}/kustomization.yaml"] = _header(name) + _kustomization(
        resources=resources, patches=patches)
    return files


def helm_files(name: str, render: FullRender, parent: FullRender | None) -> dict[str, str]:
    """Helm values per chart: the root's whole values (`values.yaml`); for another profile
    only what differs from its parent's (`values-<name>.yaml`)."""
    if parent is None:
        return {paths.helm_values(chart, name, root=True): _header(name) + yamlio.dump(values)
                for chart, values in sorted(render.helm_values.items())}
    files: dict[str, str] = {}
    for chart in sorted(set(render.helm_values) | set(parent.helm_values)):
        if chart in render.helm_values:
            diff = values_diff(parent.helm_values.get(chart, {}), render.helm_values[chart])
            files[paths.helm_values(chart, name, root=False)] = _header(name) + yamlio.dump(diff)
    return files


def folder_files(folder: str, profile: str, objects: list[dict[str, Any]]) -> dict[str, str]:
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
