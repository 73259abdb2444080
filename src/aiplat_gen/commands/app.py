"""The core behind each CLI verb: validate profiles, render them, lay out and write the tree."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from aiplat_gen.checks.validate import ValidatedProfile, validate_source
from aiplat_gen.core.errors import Diagnostic, DriftError, ProfileError, UsageError
from aiplat_gen.profile.merge import ProfileSource, load_profile, locate, profile_names

if TYPE_CHECKING:  # rendering modules load only for the verbs that render
    from aiplat_gen.output import writer
    from aiplat_gen.render.rendered import FullRender


@dataclass(frozen=True)
class Settings:
    """Where profiles, output and template overrides live."""

    profiles_dir: Path = Path("profiles")
    out_dir: Path = Path("output")
    templates_dir: Path | None = None


def select(refs: list[str], all_profiles: bool, settings: Settings) -> list[tuple[str, Path]]:
    """Profiles named on the command line (or all of them) as (name, path), in order."""
    if all_profiles and refs:
        raise UsageError("give profile names or --all, not both")
    if all_profiles:
        names = profile_names(settings.profiles_dir)
        if not names:
            raise UsageError(f"no profiles (*.yaml) in {settings.profiles_dir}")
        return [(n, settings.profiles_dir / f"{n}.yaml") for n in names]
    if not refs:
        raise UsageError("name a profile (e.g. `prod`) or use --all")
    return [locate(ref, settings.profiles_dir) for ref in refs]


def validate_many(selected: list[tuple[str, Path]], with_parents: bool = False
                  ) -> list[ValidatedProfile]:
    """Validate every selected profile (and, if asked, every profile they extend, parents
    first), collecting every problem before failing."""
    results: dict[str, ValidatedProfile] = {}
    diagnostics: list[Diagnostic] = []
    queue = list(selected)
    sources: dict[str, ProfileSource] = {}
    while queue:
        name, path = queue.pop(0)
        if name in sources:
            continue
        try:
            sources[name] = load_profile(path)
        except ProfileError as exc:
            diagnostics.extend(exc.diagnostics)
            continue
        if with_parents:
            queue.extend((p, path.parent / f"{p}.yaml") for p in sources[name].chain[:-1])
    for name in _parents_first(sources):
        try:
            results[name] = validate_source(sources[name])
        except ProfileError as exc:
            diagnostics.extend(exc.diagnostics)
    if diagnostics:
        raise ProfileError("invalid profile", list(dict.fromkeys(diagnostics)))
    return list(results.values())


def _parents_first(sources: dict[str, ProfileSource]) -> list[str]:
    return sorted(sources, key=lambda n: (len(sources[n].chain), n))


@dataclass
class RenderResult:
    """What a render produced and did."""

    profiles: list[ValidatedProfile]
    files: dict[str, str]
    objects: dict[str, int]
    outcome: writer.Outcome | None = None
    diff: str = ""
    warnings: list[Diagnostic] = field(default_factory=list)


def build_tree(profiles: list[ValidatedProfile], templates_dir: Path | None,
               step: Callable[[str], None] | None = None,
               ) -> tuple[dict[str, str], dict[str, str], dict[str, FullRender]]:
    """Render each profile and lay the tree out: (files, owner per file, full renders).
    `step(what)` is called as each profile's render starts (for a progress display)."""
    from aiplat_gen.output import layout
    from aiplat_gen.render.components.base import RenderContext
    from aiplat_gen.render.components.registry import TREE_OUTPUTS
    from aiplat_gen.render.pipeline import render_full

    renders: dict[str, FullRender] = {}
    for vp in profiles:
        if step is not None:
            step(vp.name)
        renders[vp.name] = render_full(RenderContext(vp.profile, templates_dir))
    by_name = {vp.name: vp for vp in profiles}
    roots = sorted(vp.name for vp in profiles if vp.source.parent is None)
    if len(roots) > 1:
        raise UsageError("several root profiles (" + ", ".join(roots) + "); one tree has one "
                         "root: render them into different --out folders")
    files: dict[str, str] = {}
    owners: dict[str, str] = {}
    for vp in profiles:
        parent = vp.source.parent
        if parent is None:
            produced = layout.layout_root(layout.Unit(vp.name, None, renders[vp.name]))
        else:
            parent_path = "../../base" if by_name[parent].source.parent is None else f"../{parent}"
            produced = layout.layout_overlay(layout.Unit(vp.name, parent, renders[vp.name]),
                                             renders[parent], parent_path)
        chain = [(name, renders[name]) for name in vp.source.chain]
        for folder, output in TREE_OUTPUTS.items():
            objects = output(RenderContext(vp.profile, templates_dir), chain)
            produced.update(layout.layout_folder(f"{folder}/{vp.name}", vp.name, objects))
        files.update(produced)
        owners.update(dict.fromkeys(produced, vp.name))
    return files, owners, renders


def render(refs: list[str], all_profiles: bool, settings: Settings, check: bool = False,
           diff: bool = False, step: Callable[[str], None] | None = None) -> RenderResult:
    """Validate, render and (unless check or diff) write the tree for the selected profiles.

    `output/README.md` (owned by the root profile) sums up every profile of the folder that
    validates, so the other profiles are rendered too, for the summary only (`summary`)."""
    from aiplat_gen.output import writer
    from aiplat_gen.reports import summary

    profiles = validate_many(select(refs, all_profiles, settings), with_parents=True)
    scope = {vp.name for vp in profiles}
    chosen = summary.family(profiles, lambda name, path: validate_many([(name, path)])[0])
    files, owners, renders = build_tree(list(chosen.profiles), settings.templates_dir, step)
    files[summary.README] = summary.readme(chosen, renders, owners)
    owners[summary.README] = next(vp.name for vp in profiles if vp.source.parent is None)
    files = {rel: text for rel, text in files.items() if owners[rel] in scope}
    result = RenderResult(
        profiles=profiles, files=files,
        objects={name: len(r.objects) for name, r in renders.items() if name in scope},
        warnings=[w for vp in profiles for w in vp.warnings],
    )
    out = settings.out_dir
    if check or diff:
        todo = writer.plan(out, files, owners, scope)
        stale = todo.stale
        record_path = out / writer.RECORD
        expected_record = writer.record_text(todo.record)
        if not record_path.is_file() or record_path.read_text("utf-8") != expected_record:
            stale = sorted({*stale, writer.RECORD})
        if diff:
            result.diff = writer.unified_diff(out, todo)
        if check and stale:
            raise DriftError(f"{len(stale)} file(s) in {out} differ from a fresh render", stale)
        return result
    result.outcome = writer.apply(out, files, owners, scope)
    return result
