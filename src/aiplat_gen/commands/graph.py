"""`aiplat-gen graph`: the platform graph as a Mermaid flowchart."""

from __future__ import annotations

from dataclasses import dataclass

from aiplat_gen.checks.selection import select, validate_many
from aiplat_gen.core.settings import Settings
from aiplat_gen.reports.mermaid import platform_flowchart


@dataclass(frozen=True)
class GraphRequest:
    """The profile to draw, and whether to draw every flow."""

    ref: str
    settings: Settings
    all_flows: bool = False


def graph(request: GraphRequest) -> str:
    """The flowchart of the validated profile."""
    (validated,) = validate_many(select([request.ref], False, request.settings))
    return platform_flowchart(validated.profile, request.all_flows)
