"""The simulation report as text (a table per environment) or JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aiplat_gen.verify.simulate import EnvironmentResult, SimulationReport


def to_text(report: SimulationReport) -> str:
    """A table per environment, then the verdict."""
    return "".join(_text(env) for env in report.environments) + _verdict(report)


def to_json(report: SimulationReport) -> str:
    """The whole report as indented JSON with sorted keys."""
    return json.dumps(as_json(report), indent=2, sort_keys=True) + "\n"


def format_report(report: SimulationReport, fmt: str) -> str:
    """The whole report in one of FORMATS."""
    return REPORTERS[fmt](report)


def _verdict(report: SimulationReport) -> str:
    bad = [e.profile for e in report.environments if not e.ok]
    if bad:
        return f"simulate: FAILED for {', '.join(bad)}\n"
    return f"simulate: ok ({len(report.environments)} environment(s))\n"


def _row(cells: list[str], widths: list[int]) -> str:
    return "  " + "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip() + "\n"


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "".join(_row(r, widths) for r in rows)


def _text(env: EnvironmentResult) -> str:
    out = [f"{env.profile}: {env.objects} objects, {env.accepted} accepted, "
           f"{len(env.refusals)} refused\n"]
    low, high = env.snapshots.get("min"), env.snapshots.get("max")
    if low is not None and high is not None:
        rows = [["", "min", "max"],
                ["pods wanted", str(low.pods_wanted), str(high.pods_wanted)],
                ["pods bound", str(low.pods_bound), str(high.pods_bound)],
                ["pods not bound", str(low.pods_wanted - low.pods_bound),
                 str(high.pods_wanted - high.pods_bound)]]
        rows += [[f"{p.pool} {p.resource}", f"{p.at_min}/{p.offered}", f"{p.at_max}/{p.offered}"]
                 for p in env.pools]
        out.append(_table(rows))
    out += [f"  refused: {item.describe()}\n" for item in env.refusals]
    out += [f"  not scheduled: {d}\n" for d in env.disagreements]
    out += [f"  not placed at max, as `plan` reports: {d}\n" for d in env.expected_unplaced]
    out += [f"  accepted, not simulated: {n}\n" for n in env.not_simulated]
    return "".join(out)


def as_json(report: SimulationReport) -> dict[str, Any]:
    """JSON-ready data of the report."""
    return {"ok": report.ok, "environments": [_env_json(e) for e in report.environments]}


def _env_json(env: EnvironmentResult) -> dict[str, Any]:
    return {
        "profile": env.profile, "ok": env.ok, "objects": env.objects, "accepted": env.accepted,
        "refusals": [{"kind": i.refusal.kind, "namespace": i.refusal.namespace,
                      "name": i.refusal.name, "message": i.refusal.message, "file": i.file,
                      "profile": str(i.profile_position) if i.profile_position else None,
                      "path": i.profile_path} for i in env.refusals],
        "pods": {at: {"wanted": s.pods_wanted, "bound": s.pods_bound,
                      "workloads": [{"kind": w.kind, "namespace": w.namespace, "name": w.name,
                                     "wanted": w.wanted, "created": w.created,
                                     "bound": w.bound, "problems": list(w.problems)}
                                    for w in s.workloads]}
                 for at, s in env.snapshots.items()},
        "pools": [{"pool": p.pool, "resource": p.resource, "offered": p.offered,
                   "min": p.at_min, "max": p.at_max} for p in env.pools],
        "disagreements": env.disagreements, "expected_unplaced": env.expected_unplaced,
        "not_simulated": env.not_simulated,
    }


REPORTERS: dict[str, Callable[[SimulationReport], str]] = {"text": to_text, "json": to_json}
FORMATS = tuple(REPORTERS)
