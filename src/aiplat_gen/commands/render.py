"""`aiplat-gen render`: validate the profiles, render the tree, and write it (or, with --check or
--diff, compare it with the output folder)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from aiplat_gen.core.errors import Diagnostic, DriftError, UsageError
from aiplat_gen.core.settings import Settings
from aiplat_gen.output import folder, reuse, writer
from aiplat_gen.reports import diagnostics

# Validation and rendering (pydantic, Jinja, the components) are imported by `_render` only: a
# render whose inputs and output folder are unchanged is answered from `output.reuse` without
# them.


@dataclass(frozen=True)
class RenderRequest:
    """Which profiles to render, where, and whether to write or only compare."""

    refs: list[str]
    all_profiles: bool
    settings: Settings
    check: bool = False
    diff: bool = False
    force: bool = False  # overwrite or remove owned files edited since they were written


@dataclass
class RenderResult:
    """What a render produced and did."""

    names: list[str]  # the profiles rendered (those named and their parents)
    files: dict[str, str]
    owners: dict[str, str]
    objects: dict[str, int]
    outcome: writer.Outcome | None = None
    diff: str = ""
    warnings: list[Diagnostic] = field(default_factory=list)


def render(request: RenderRequest, step: Callable[[str], None] | None = None) -> RenderResult:
    """Validate, render and (unless check or diff) write the tree for the selected profiles.

    `output/README.md` (owned by the root profile) sums up every profile of the folder that
    validates, so the sibling profiles are rendered too, for the summary only: their files are
    laid out, then left out of what is written.

    When nothing changed since a render left the output folder as it is (`output.reuse`), its
    result is reused: nothing is validated, rendered or written (not with --check, --diff or
    --force)."""
    settings = request.settings
    folder.check_out_dir(settings.out_dir, settings.profiles_dir)
    templates = settings.templates_dir
    if templates is not None and not templates.is_dir():
        what = "is not a folder" if templates.exists() else "does not exist"
        raise UsageError(f"--templates-dir {templates} {what}")
    def inputs() -> str | None:
        return reuse.key(request.refs, request.all_profiles, settings.profiles_dir,
                         settings.out_dir, templates)

    key = None
    # `--check` is a gate (CI): it trusts no cache and renders in full, as do --diff and --force.
    if not (request.check or request.diff or request.force):
        key = inputs()
        kept = reuse.unchanged(key, settings.out_dir, request.all_profiles)
        if kept is not None:
            return _reused(request, kept)
    result = _render(request, step)  # raises unless the folder is now as rendered
    # Kept when the folder is as rendered and no input changed while rendering (the key read
    # before is the key read after).
    if key is not None and key == inputs():
        reuse.remember(key, settings.out_dir, result.files, result.owners, result.objects,
                       result.names, result.warnings)
    return result


def _reused(request: RenderRequest, kept: reuse.Reused) -> RenderResult:
    files = dict.fromkeys(kept.files, "")  # the texts are on disk; only their names are shown
    outcome = None if request.check else writer.Outcome(unchanged=sorted(kept.files))
    return RenderResult(names=kept.names, files=files, owners=kept.owners, objects=kept.objects,
                        outcome=outcome, warnings=kept.warnings)


def _render(request: RenderRequest, step: Callable[[str], None] | None) -> RenderResult:
    from aiplat_gen.checks.selection import family, select, validate_many
    from aiplat_gen.output import tree
    from aiplat_gen.profile.loader import display_path
    from aiplat_gen.reports.plan import build_plan
    from aiplat_gen.reports.summary import Summary

    settings = request.settings
    profiles = validate_many(select(request.refs, request.all_profiles, settings),
                             with_parents=True)
    scope = {vp.name for vp in profiles}
    chosen = family(profiles)
    plans = {vp.name: build_plan(vp.profile) for vp in chosen.profiles}
    laid_out = tree.build_tree(chosen.profiles, settings.templates_dir, step,
                               (*tree.DEFAULT_TARGETS, Summary(chosen, plans)))
    files, owners = laid_out.of(scope)
    result = RenderResult(
        names=[vp.name for vp in profiles], files=files, owners=owners,
        objects={name: len(r.objects) for name, r in laid_out.renders.items() if name in scope},
        warnings=[w for vp in profiles for w in vp.warnings],
    )
    # The full renders (most of the memory of a large tree) are not needed to write the files.
    del laid_out
    out = settings.out_dir
    # --all renders every profile there is: files of profiles that no longer exist go too.
    owned_scope = None if request.all_profiles else scope
    if request.diff:
        result.diff = writer.diff(out, files, owners, owned_scope, display_path(out))
    if request.check:
        stale = writer.drift(out, files, owners, owned_scope)
        if stale:
            raise DriftError(f"{len(stale)} file(s) in {out} differ from a fresh render", stale)
    if request.check or request.diff:
        return result
    result.outcome = writer.apply(out, files, owners, owned_scope, request.force)
    return result


def report(request: RenderRequest, result: RenderResult) -> str:
    """What the render did, for standard output (nothing more with --diff but the diff)."""
    if request.diff:
        return result.diff
    out = request.settings.out_dir
    objects = sum(result.objects.values())
    names = ", ".join(result.names)
    if request.check:
        return f"{out}: up to date ({len(result.files)} files, {objects} objects; {names})\n"
    done = result.outcome
    assert done is not None
    return (f"rendered {names} into {out}: {objects} objects in {len(result.files)} files "
            f"({len(done.written)} written, {len(done.unchanged)} unchanged, "
            f"{len(done.removed)} removed)\n")


def warnings(result: RenderResult) -> list[str]:
    """Warnings for standard error: files the record listed that are not the tool's own (not
    its stamped text as recorded), left in place and dropped from the record."""
    left = result.outcome.left_foreign if result.outcome is not None else []
    return [f"warning: {rel} is listed in the record but is not a file aiplat-gen wrote; left "
            "in place and dropped from the record" for rel in left]


FORMATS = diagnostics.FORMATS
"""`render --format`: how its diagnostics print (its result is a line of text in any format)."""
