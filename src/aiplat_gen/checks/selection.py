"""Which profiles a command works on: those named (or all), validated with their parents, and
the sibling profiles of the same tree that the output summary covers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aiplat_gen.checks.validate import ValidatedProfile, validate_source
from aiplat_gen.core.errors import (
    AiplatError,
    Diagnostic,
    ProfileError,
    ProfileRef,
    UsageError,
    merge_duplicates,
)
from aiplat_gen.core.settings import Settings
from aiplat_gen.profile.merge import (
    Loaded,
    ProfileSource,
    load_profile,
    locate,
    profile_names,
)


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


def validate_many(selected: list[tuple[str, Path]], with_parents: bool = False,
                  loaded: Loaded | None = None) -> list[ValidatedProfile]:
    """Validate every selected profile (and, if asked, every profile they extend, parents
    first), collecting every problem before failing; a problem shared by several profiles is
    reported once, naming them all. Each file is loaded and merged once
    (`loaded`, shared with the caller when given)."""
    loaded = {} if loaded is None else loaded
    results: dict[str, ValidatedProfile] = {}
    diagnostics: list[Diagnostic] = []
    queue = list(selected)
    sources: dict[str, ProfileSource] = {}
    while queue:
        name, path = queue.pop(0)
        if name in sources:
            continue
        try:
            sources[name] = load_profile(path, loaded)
        except ProfileError as exc:  # its chain is unread: the diagnostic names the profile only
            diagnostics.extend(d.for_profile(ProfileRef(name)) for d in exc.diagnostics)
            continue
        if with_parents:
            queue.extend((p, path.parent / f"{p}.yaml") for p in sources[name].chain[:-1])
    for name in _parents_first(sources):
        try:
            results[name] = validate_source(sources[name])
        except ProfileError as exc:
            diagnostics.extend(exc.diagnostics)
    if diagnostics:  # a bad value in a parent is one error, naming every child it breaks
        raise ProfileError("invalid profile", merge_duplicates(diagnostics))
    return list(results.values())


def _parents_first(sources: dict[str, ProfileSource]) -> list[str]:
    return sorted(sources, key=lambda n: (len(sources[n].chain), n))


@dataclass(frozen=True)
class Family:
    """The profiles of one tree (parents first) and the sibling profiles that do not validate."""

    profiles: tuple[ValidatedProfile, ...]
    invalid: tuple[str, ...]


def family(selected: list[ValidatedProfile]) -> Family:
    """The selected profiles plus every other profile of their folders that shares their root
    and validates; the others are named in `invalid`."""
    have = {vp.name: vp for vp in selected}
    roots = {vp.source.chain[0] for vp in selected}
    invalid: list[str] = []
    loaded: Loaded = {}
    for folder in sorted({vp.source.path.parent for vp in selected}):
        for name in profile_names(folder):
            if name in have:
                continue
            path = folder / f"{name}.yaml"
            try:
                if load_profile(path, loaded).chain[0] not in roots:
                    continue  # another tree's profile
                have[name] = validate_many([(name, path)], loaded=loaded)[0]
            except AiplatError:
                invalid.append(name)
    ordered = sorted(have.values(), key=lambda vp: (len(vp.source.chain), vp.name))
    return Family(tuple(ordered), tuple(sorted(invalid)))
