"""The output tree as a model: the profiles' full renders, and the targets that turn them into
files.

Every path comes from `paths` (`aiplat_gen.core.tree_paths`, re-exported here). A target is one
kind of output (the Kustomize base, the overlays, the Helm values, the ArgoCD folders, the README
summary); it implements `Target.files` and knows nothing of the others, so a new output (a Helm
chart for one component, say) is a new target in the list handed to `build_tree`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

from aiplat_gen.checks.validate import ValidatedProfile
from aiplat_gen.core import tree_paths as paths
from aiplat_gen.core.errors import UsageError
from aiplat_gen.output import layout, parallel
from aiplat_gen.render.components import argocd
from aiplat_gen.render.components.base import RenderContext
from aiplat_gen.render.rendered import FullRender

__all__ = ["DEFAULT_TARGETS", "LaidOut", "Target", "Tree", "Unit", "build_tree", "paths"]


@dataclass(frozen=True)
class Tree:
    """The profiles of one tree (parents first, one root) and their full renders."""

    profiles: tuple[ValidatedProfile, ...]
    renders: Mapping[str, FullRender]
    templates_dir: Path | None = None

    @property
    def root(self) -> ValidatedProfile:
        """The profile that extends none: its render is `base/`."""
        return next(vp for vp in self.profiles if vp.source.parent is None)


@dataclass(frozen=True)
class Unit:
    """One profile of the tree, as a target sees it; `laid_out` holds the owner of every file
    the targets before this one produced (the summary counts them)."""

    tree: Tree
    profile: ValidatedProfile
    laid_out: Mapping[str, str]

    @property
    def name(self) -> str:
        """The profile's name (the owner of the files a target produces for it)."""
        return self.profile.name

    @property
    def is_root(self) -> bool:
        """Whether the profile is the tree's root."""
        return self.profile.source.parent is None

    @property
    def render(self) -> FullRender:
        """The profile's full render."""
        return self.tree.renders[self.name]

    @property
    def parent_render(self) -> FullRender | None:
        """The parent's full render (None for the root)."""
        parent = self.profile.source.parent
        return None if parent is None else self.tree.renders[parent]

    @property
    def chain(self) -> list[tuple[str, FullRender]]:
        """The `extends` chain, root first, with each profile's full render."""
        return [(name, self.tree.renders[name]) for name in self.profile.source.chain]

    def context(self) -> RenderContext:
        """A render context of the profile (for targets that render objects of their own)."""
        return RenderContext(self.profile.profile, self.tree.templates_dir)


class Target(Protocol):
    """One kind of output of the tree."""

    def files(self, unit: Unit) -> dict[str, str]:
        """The files (path relative to the output folder -> text) this target writes for the
        profile; the profile owns them."""
        ...


class KustomizeBase:
    """`base/`: the root profile's render."""

    def files(self, unit: Unit) -> dict[str, str]:
        """Base files of the root profile; nothing for the others."""
        return layout.base_files(unit.name, unit.render) if unit.is_root else {}


class KustomizeOverlay:
    """`overlays/<env>/`: a profile's difference to its parent."""

    def files(self, unit: Unit) -> dict[str, str]:
        """Overlay files of a profile that extends another; nothing for the root."""
        parent = unit.profile.source.parent
        parent_render = unit.parent_render
        if parent is None or parent_render is None:
            return {}
        parent_is_root = len(unit.profile.source.chain) == 2
        return layout.overlay_files(unit.name, unit.render, parent_render,
                                    paths.parent_folder(unit.name, parent, parent_is_root))


class HelmValues:
    """`helm/<chart>/values.yaml` of the root, `values-<env>.yaml` of the others."""

    def files(self, unit: Unit) -> dict[str, str]:
        """The profile's values files."""
        return layout.helm_files(unit.name, unit.render, unit.parent_render)


class ArgoCDApps:
    """`argocd/<env>/`: the objects that deploy an environment with ArgoCD."""

    def files(self, unit: Unit) -> dict[str, str]:
        """The environment's ArgoCD folder; nothing unless it deploys with ArgoCD."""
        return layout.folder_files(paths.argocd(unit.name), unit.name,
                                   argocd.render(unit.context(), unit.chain))


DEFAULT_TARGETS: tuple[Target, ...] = (KustomizeBase(), KustomizeOverlay(), HelmValues(),
                                       ArgoCDApps())


@dataclass(frozen=True)
class LaidOut:
    """The files of a tree, the profile owning each, and the full renders."""

    files: dict[str, str]
    owners: dict[str, str]
    renders: dict[str, FullRender]

    def of(self, scope: set[str]) -> tuple[dict[str, str], dict[str, str]]:
        """Only the files (and owners) of the profiles in `scope`."""
        files = {rel: text for rel, text in self.files.items() if self.owners[rel] in scope}
        return files, {rel: self.owners[rel] for rel in files}


def render_tree(profiles: Sequence[ValidatedProfile], templates_dir: Path | None,
                step: Callable[[str], None] | None = None, jobs: int | None = None) -> Tree:
    """Render every profile in full. `step(name)` is called as each render starts (for a
    progress display). Refuses several roots: one tree has one root. The renders are
    independent: with several profiles and processors they run in parallel (`parallel`)."""
    names = [vp.name for vp in profiles]
    renders = dict(zip(names, parallel.render_all([vp.profile for vp in profiles],
                                                  templates_dir, names, step, jobs),
                       strict=True))
    roots = sorted(vp.name for vp in profiles if vp.source.parent is None)
    if len(roots) > 1:
        raise UsageError("several root profiles (" + ", ".join(roots) + "); one tree has one "
                         "root: render them into different --out folders")
    return Tree(tuple(profiles), renders, templates_dir)


def lay_out(tree: Tree, targets: Sequence[Target] = DEFAULT_TARGETS) -> LaidOut:
    """Run each target over each profile, in order; a file's owner is the profile it was laid
    out for."""
    files: dict[str, str] = {}
    owners: dict[str, str] = {}
    for target in targets:
        for vp in tree.profiles:
            produced = target.files(Unit(tree, vp, MappingProxyType(owners)))
            files.update(produced)
            owners.update(dict.fromkeys(produced, vp.name))
    return LaidOut(files, owners, dict(tree.renders))


def build_tree(profiles: Sequence[ValidatedProfile], templates_dir: Path | None,
               step: Callable[[str], None] | None = None,
               targets: Sequence[Target] = DEFAULT_TARGETS) -> LaidOut:
    """Render each profile and lay the tree out with `targets`."""
    return lay_out(render_tree(profiles, templates_dir, step), targets)
