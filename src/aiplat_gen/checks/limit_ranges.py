"""Are the platform's own pods admitted? Every container the platform renders into a namespace
(`workload_resources`: model servers, their init containers, data stores, sidecars) goes through
what the API server does at pod creation (`admission`: API defaulting, the namespace's
LimitRange, pod validation, ResourceQuota), and every refusal is reported at the profile value
that causes it: the LimitRange value (`spec.namespaces[0].limitRange.defaultCpu`) or the quota
(`spec.namespaces[0].quota.cpu`).

A container's own contradictions (a memory request above the limit it sets) are the serving
checks' to report; a refused LimitRange is reported alone, since it constrains nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from aiplat_gen.core.errors import Diagnostic
from aiplat_gen.core.hints import listed
from aiplat_gen.platform.admission import (
    Key,
    LimitRangeItem,
    Refusal,
    admit,
    quota_missing,
    validate,
)
from aiplat_gen.platform.workload_resources import (
    WAIT_WEIGHTS,
    Container,
    Workload,
    workloads,
)
from aiplat_gen.profile.locator import Loc, Locator
from aiplat_gen.profile.schema.cluster import LIMIT_RANGE_FIELDS, LimitRange, Namespace
from aiplat_gen.profile.schema.profile import Profile
from aiplat_gen.profile.schema.types import parse_quantity

NAMES = {"cpu": "CPU", "memory": "memory"}
QUOTA_KEYS = {"requests.cpu": "cpu", "requests.memory": "memory", "limits.memory": "memory"}
"""ResourceQuota entry -> the `quota` key of the profile that renders it."""
QUOTA_DEFAULTS = {"requests.cpu": ("defaultRequestCpu", "a CPU request"),
                  "requests.memory": ("defaultRequestMemory", "a memory request"),
                  "limits.memory": ("defaultMemory", "a memory limit")}


@dataclass(frozen=True)
class Finding:
    """One container refused because of one LimitRange value."""

    container: Container
    refusal: Refusal


def _key(key: Key) -> str:
    """The profile key that declares a (field, resource) of the LimitRange."""
    return LimitRange.model_fields[LIMIT_RANGE_FIELDS[key]].alias or LIMIT_RANGE_FIELDS[key]


def _item(ns: Namespace) -> LimitRangeItem | None:
    return LimitRangeItem.of(ns.limit_range.declared()) if ns.limit_range else None


def _by_namespace(profile: Profile) -> dict[str, list[Workload]]:
    result: dict[str, list[Workload]] = defaultdict(list)
    for workload in workloads(profile):
        result[workload.namespace].append(workload)
    return result


def limit_ranges(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """The LimitRange is valid, and admits every container of every workload in its namespace."""
    pods = _by_namespace(profile)
    for index, ns in enumerate(profile.spec.namespaces):
        item = _item(ns)
        if item is None:
            continue
        loc: Loc = ("spec", "namespaces", index, "limitRange")
        invalid = validate(item)
        reported: set[Key] = set()
        # One diagnostic per declared value, in the words about that value where there are some.
        for problem in sorted(invalid, key=lambda p: p.key != p.source):
            if problem.source not in reported:
                reported.add(problem.source)
                against = [(*loc, _key(problem.against))] if problem.against else []
                yield at.relation((*loc, _key(problem.source)), against,
                                  f"the API server refuses this LimitRange: {problem.message}",
                                  "Kubernetes needs defaultRequest <= default <= max, "
                                  "where a missing default is max and a missing "
                                  "defaultRequest is default")
        if invalid:
            continue
        found: dict[Key, dict[Loc, list[Finding]]] = defaultdict(lambda: defaultdict(list))
        by_loc = {w.loc: w for w in pods.get(ns.name, [])}
        for workload in by_loc.values():
            for container in workload.containers:
                for refusal in admit(container.requests, container.limits, item).refusals:
                    if refusal.blame is not None:
                        found[refusal.blame][workload.loc].append(Finding(container, refusal))
        for blame, per_workload in found.items():
            key = _key(blame)
            bound = item.values[blame]
            needed = max((f.refusal.value for fs in per_workload.values() for f in fs
                          if f.refusal.value), key=parse_quantity, default=bound)
            for where, findings in per_workload.items():
                workload = by_loc[where]
                others = [o for f in findings
                          for o in _value_locs(profile, workload, f.container, f.refusal)]
                yield _diagnostic(at, (*loc, key), others, key, blame, bound, needed, workload,
                                  findings)


def _value_locs(profile: Profile, workload: Workload, container: Container,
                refusal: Refusal) -> list[Loc]:
    """Where the container's value that the LimitRange value refuses is written in the
    profile (see `workload_resources`): the model's or data store's `resources`; none for the
    platform's fixed containers (wait-weights, the weights Job, the Redis exporter)."""
    if refusal.rule == "request-above-limit":
        # a defaulted limit below the container's request, or a defaulted request above its limit
        subject = "request" if refusal.blame and refusal.blame[0] == "default" else "limit"
    else:
        subject = refusal.subject
    res: Loc = (*workload.loc, "resources")
    if workload.kind == "model" and container.name != WAIT_WEIGHTS:
        model = profile.spec.models[int(workload.loc[2])]
        if refusal.resource == "cpu":
            return [(*res, "cpu")] if subject == "request" else []
        if refusal.resource == "memory":
            memory_request = subject == "request" and model.resources.memory_request
            return [(*res, "memoryRequest" if memory_request else "memory")]
    elif workload.kind in ("vector database", "cache") and container.name != "exporter":
        if refusal.resource == "cpu":
            return [(*res, "cpu" if subject == "request" else "cpuLimit")]
        if refusal.resource == "memory":
            return [(*res, "memory")]
    return []


def _diagnostic(at: Locator, loc: Loc, others: list[Loc], key: str, blame: Key, bound: str,
                needed: str, workload: Workload, findings: list[Finding]) -> Diagnostic:
    """The refusal of a workload's containers: a relation between the LimitRange value and
    the containers' values, placed at whichever the most-derived profile wrote."""
    field, resource = blame
    name = NAMES.get(resource, resource)
    values = listed([f"{f.container.label}: {f.refusal.value or 'none'}" for f in findings])
    refused = f'the API server refuses its pods ("{findings[0].refusal.message}")'
    if field == "max" and any(f.refusal.value == "" for f in findings):
        return at.relation(loc, others, f"{workload.label} sets no {name} limit ({values}), "
                           f"which the maximum of {bound} requires: {refused}", f"drop {key}")
    if field == "max":
        asks = (f"sets a {name} limit above" if all(f.refusal.subject == "limit" for f in findings)
                else f"asks for more {name} than")
        return at.relation(loc, others, f"{workload.label} {asks} the maximum of {bound} "
                           f"({values}): {refused}",
                           f"raise {key} to at least {needed} or lower the {workload.kind}'s "
                           f"resources.{resource}")
    if field == "default":
        why = " (the platform requests CPU without limiting it)" if resource == "cpu" else ""
        return at.relation(loc, others, f"the default {name} limit {bound} is below the {name} "
                           f"request of the containers of {workload.label} that set no "
                           f"{name} limit ({values}): {refused}",
                           f"drop {key}{why} or raise it to at least {needed}")
    return at.relation(loc, others, f"the default {name} request {bound} is above the {name} "
                       f"limit of {workload.label} ({values}): {refused}",
                       f"lower {key} below the containers' {name} limits")


def quota_requirements(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """A quota on CPU or memory needs every container to give those values (set, or defaulted
    by the LimitRange), or the API server refuses its pods."""
    pods = _by_namespace(profile)
    for index, ns in enumerate(profile.spec.namespaces):
        if ns.quota is None:
            continue
        hard = list(ns.quota.compute())
        item = _item(ns)
        if item is not None and validate(item):
            item = None  # a refused LimitRange defaults nothing
        for workload in pods.get(ns.name, []):
            missing: dict[str, list[Container]] = defaultdict(list)
            for container in workload.containers:
                admitted = admit(container.requests, container.limits, item)
                for name in quota_missing(admitted, hard):
                    missing[name].append(container)
            for name, containers in missing.items():
                default_key, what = QUOTA_DEFAULTS[name]
                labels = listed([c.label for c in containers])
                yield at.diagnostic(
                    ("spec", "namespaces", index, "quota", QUOTA_KEYS[name]),
                    f"the quota on {name} needs every container to set it, but "
                    f"{workload.label} gives none for {labels}: the API server refuses its "
                    f"pods (must specify {name})",
                    f"set limitRange.{default_key} so containers without {what} get one")
