"""The objects of a rendered environment, as ArgoCD deploys them, and where each comes from.

Shared by `simulate` and `check --cluster`: the folder ArgoCD deploys (`base/` for the root
profile, `overlays/<env>/` for the others) and, when the environment deploys with ArgoCD, its
`argocd/<env>/`, each built with kustomize; and a locator that names, for a refused object,
the output file that defines it and the profile entry behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiplat_gen.checks.validate import ValidatedProfile
from aiplat_gen.core import tree_paths as paths
from aiplat_gen.core import yamlio
from aiplat_gen.core.errors import AiplatError, Position, UsageError
from aiplat_gen.profile.loader import display_path, to_plain
from aiplat_gen.verify.kube import kustomize
from aiplat_gen.verify.simulate.run import Refusal
from aiplat_gen.verify.sources import SourceIndex, key

MODEL_LABEL = "ai.platform/model"


@dataclass(frozen=True)
class LocatedRefusal:
    """A refused object, where the output defines it and the profile entry behind it."""

    refusal: Refusal
    file: str
    profile_position: Position | None
    profile_path: str

    def describe(self) -> str:
        """`file:line: Kind ns/name: message (from profile:line:col: spec.models[0])`."""
        r = self.refusal
        ns = f"{r.namespace}/" if r.namespace else ""
        origin = (f" (from {self.profile_position}: {self.profile_path})"
                  if self.profile_position is not None else "")
        return f"{self.file or '?'}: {r.kind} {ns}{r.name}: {r.message}{origin}"


def environment_objects(vp: ValidatedProfile, out: Path, command: list[str]
             ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The objects of the folder ArgoCD deploys, and of `argocd/<env>/` when it deploys."""
    chain = vp.source.chain
    folders = [paths.chain_folder(chain)]
    gitops = vp.profile.spec.gitops
    if gitops is not None and gitops.deploy:
        folders.append(paths.argocd(vp.name))
    built: list[list[dict[str, Any]]] = []
    for folder in folders:
        path = out / folder
        if not (path / "kustomization.yaml").is_file():
            raise UsageError(f"{display_path(path)} has no kustomization.yaml: run "
                             f"`aiplat-gen render {vp.name}` first")
        result = kustomize.build(path, command)
        if not result.ok:
            raise AiplatError(f"kustomize build {display_path(path)} failed: "
                              + "; ".join(result.problems))
        built.append([d for d in yamlio.load_all(result.text) if isinstance(d, dict)])
    return built[0], (built[1] if len(built) > 1 else [])


def locator(vp: ValidatedProfile, out: Path) -> Locator:
    """The locator of one profile's rendered objects."""
    return Locator(vp, out)


class Locator:
    """Where an object comes from: the output file, and the profile entry (a model by its
    `ai.platform/model` label, a namespace's own objects by namespace)."""

    def __init__(self, vp: ValidatedProfile, out: Path) -> None:
        chain = vp.source.chain
        sources = paths.object_sources(chain)
        if vp.profile.spec.gitops is not None and vp.profile.spec.gitops.deploy:
            sources.append(paths.argocd(vp.name))
        self._index = SourceIndex(out).lookup(sources)
        self._key = key
        _, self._positions = to_plain(vp.source.tree)
        spec = vp.profile.spec
        self._models = {m.name: i for i, m in enumerate(spec.models)}
        self._namespaces = {n.name: i for i, n in enumerate(spec.namespaces)}

    def refusal(self, obj: dict[str, Any], refusal: Refusal) -> LocatedRefusal:
        file, line = self._index.get(self._key(obj), ("", 0))
        meta = obj.get("metadata", {})
        loc: tuple[str | int, ...] | None = None
        model = (meta.get("labels") or {}).get(MODEL_LABEL)
        if model in self._models:
            loc = ("spec", "models", self._models[model])
        else:
            namespace = meta["name"] if obj.get("kind") == "Namespace" else meta.get("namespace")
            if namespace in self._namespaces:
                loc = ("spec", "namespaces", self._namespaces[namespace])
        position = self._positions.get(loc) if loc is not None else None
        path = ""
        if loc is not None:
            path = f"spec.{loc[1]}[{loc[2]}]"
        return LocatedRefusal(refusal, f"{file}:{line}" if file else "", position, path)
