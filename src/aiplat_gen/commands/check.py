"""`aiplat-gen check`: build and validate the rendered tree (or dry-run it on a cluster)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiplat_gen.commands import Reporter, writes
from aiplat_gen.core.settings import Settings
from aiplat_gen.verify import check as checking
from aiplat_gen.verify.check import report as check_report
from aiplat_gen.verify.check.cluster import ClusterReport, check_cluster, format_cluster_report


@dataclass(frozen=True)
class CheckRequest:
    """The profiles whose rendered output to check, and how."""

    refs: list[str]
    all_profiles: bool
    settings: Settings
    options: checking.CheckOptions


@dataclass(frozen=True)
class ClusterCheckRequest:
    """The profiles whose rendered output to dry-run on the kubeconfig's cluster."""

    refs: list[str]
    all_profiles: bool
    settings: Settings
    context: str | None


def check(request: CheckRequest, step: Callable[[str], None] | None = None
          ) -> checking.CheckReport:
    """Build each rendered folder and validate its objects (and the policy rules if asked)."""
    return checking.check(request.refs, request.all_profiles, request.settings, request.options,
                          step)


def check_on_cluster(request: ClusterCheckRequest, step: Callable[[str], None] | None = None
                     ) -> ClusterReport:
    """Server-side dry run of every rendered object."""
    return check_cluster(request.refs, request.all_profiles, request.settings,
                         request.settings.out_dir, request.context, step)


REPORTERS: dict[str, Reporter[checking.CheckReport]] = {
    fmt: writes(text) for fmt, text in check_report.REPORTERS.items()}
FORMATS = tuple(REPORTERS)
CLUSTER_REPORTER: Reporter[ClusterReport] = writes(format_cluster_report)
