"""`aiplat-gen validate`: check profiles (schema and cross-layer facts) without rendering."""

from __future__ import annotations

from dataclasses import dataclass

from aiplat_gen.checks.selection import select, validate_many
from aiplat_gen.checks.validate import ValidatedProfile
from aiplat_gen.commands import Reporter, writes
from aiplat_gen.core.errors import Diagnostic
from aiplat_gen.core.settings import Settings
from aiplat_gen.reports.diagnostics import format_diagnostics


@dataclass(frozen=True)
class ValidateRequest:
    """The profiles to validate."""

    refs: list[str]
    all_profiles: bool
    settings: Settings


@dataclass(frozen=True)
class ValidateResult:
    """The valid profiles and their warnings (an invalid profile raises ProfileError)."""

    profiles: list[ValidatedProfile]
    warnings: list[Diagnostic]


def validate(request: ValidateRequest) -> ValidateResult:
    """Validate the selected profiles, every problem at once."""
    profiles = validate_many(select(request.refs, request.all_profiles, request.settings))
    return ValidateResult(profiles, [w for vp in profiles for w in vp.warnings])


def _line(result: ValidateResult) -> str:
    return (f"{len(result.profiles)} profile(s) valid: "
            + ", ".join(vp.name for vp in result.profiles) + "\n")


REPORTERS: dict[str, Reporter[ValidateResult]] = {
    "text": writes(_line),
    "github": writes(_line),
    "json": writes(lambda result: format_diagnostics(result.warnings, "json")),
}
FORMATS = tuple(REPORTERS)
