"""`aiplat-gen simulate`: apply each rendered environment to a fresh local control plane."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiplat_gen.commands import Reporter, writes
from aiplat_gen.core.settings import Settings
from aiplat_gen.verify import simulate as sim
from aiplat_gen.verify.simulate import report as sim_report


@dataclass(frozen=True)
class SimulateRequest:
    """The profiles to simulate, and the control plane's options."""

    refs: list[str]
    all_profiles: bool
    settings: Settings
    options: sim.SimulateOptions


def simulate(request: SimulateRequest, step: Callable[[str], None] | None = None
             ) -> sim.SimulationReport:
    """Simulate each selected profile's rendered tree."""
    return sim.simulate(request.refs, request.all_profiles, request.settings, request.options,
                        step)


REPORTERS: dict[str, Reporter[sim.SimulationReport]] = {
    fmt: writes(text) for fmt, text in sim_report.REPORTERS.items()}
FORMATS = tuple(REPORTERS)
