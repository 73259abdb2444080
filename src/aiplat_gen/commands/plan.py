"""`aiplat-gen plan`: what a profile asks of the cluster, before anything is applied."""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

from aiplat_gen.commands import Reporter, writes
from aiplat_gen.core.errors import Diagnostic
from aiplat_gen.core.settings import Settings
from aiplat_gen.reports import plan_report
from aiplat_gen.reports.console import print_report
from aiplat_gen.reports.plan import Plan, plan_profile


@dataclass(frozen=True)
class PlanRequest:
    """The profile to plan (a name or a path)."""

    ref: str
    settings: Settings


@dataclass(frozen=True)
class PlanResult:
    """The plan and the profile's validation warnings."""

    plan: Plan
    warnings: tuple[Diagnostic, ...]


def plan(request: PlanRequest) -> PlanResult:
    """Validate the profile and plan it."""
    return PlanResult(*plan_profile(request.ref, request.settings))


def _table(result: PlanResult, out: IO[str]) -> None:
    print_report(plan_report.report(result.plan), out)


REPORTERS: dict[str, Reporter[PlanResult]] = {
    "text": _table,
    "json": writes(lambda result: plan_report.to_json(result.plan)),
    "markdown": writes(lambda result: plan_report.to_markdown(result.plan, level=1)),
}
FORMATS = tuple(REPORTERS)
