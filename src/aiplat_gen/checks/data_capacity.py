"""Checks that the data stores fit their namespaces' ResourceQuota (CPU, memory, pods,
PersistentVolumeClaims, storage); `checks.limit_ranges` compares their containers with the
LimitRanges.

The sums count the data stores alone, every container included (the Redis exporter sidecar too,
from `workload_resources`); other workloads in the same namespace come on top of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from aiplat_gen.checks.data import stores
from aiplat_gen.core.errors import Diagnostic
from aiplat_gen.core.hints import listed
from aiplat_gen.platform.workload_resources import workloads
from aiplat_gen.profile.locator import Locator
from aiplat_gen.profile.schema.data import VectorDatabase
from aiplat_gen.profile.schema.profile import Profile
from aiplat_gen.profile.schema.secrets import Loc
from aiplat_gen.profile.schema.types import parse_quantity


@dataclass
class Usage:
    """What the data stores of one namespace ask for."""

    cpu: Decimal = Decimal(0)
    memory: Decimal = Decimal(0)
    pods: int = 0
    claims: int = 0
    storage: Decimal = Decimal(0)
    names: list[str] = field(default_factory=list)
    locs: dict[str, list[Loc]] = field(default_factory=dict)
    """Per quota key, where the values the sum is made of are written (resources, sizes,
    replicas): a relation check names them and may be placed at one of them."""

    def add_locs(self, **locs: list[Loc]) -> None:
        """Record where more of the values behind each quota key are written."""
        for key, found in locs.items():
            self.locs.setdefault(key, []).extend(found)


def usage_by_namespace(profile: Profile) -> dict[str, Usage]:
    """Requests, pods, claims and storage of the data stores per namespace."""
    result: dict[str, Usage] = {}
    pods_of = {w.loc: w for w in workloads(profile)}
    for placed in stores(profile):
        workload = pods_of.get(placed.loc)
        if placed.pods == 0 or workload is None:
            continue
        use = result.setdefault(placed.store.namespace, Usage())
        use.names.append(placed.store.name)
        use.pods += placed.pods
        # a vector database runs `replicas` pods; a cache one
        count: list[Loc] = ([(*placed.loc, "replicas")]
                            if isinstance(placed.store, VectorDatabase) else [])
        res: Loc = (*placed.loc, "resources")
        use.add_locs(pods=count, cpu=[*count, (*res, "cpu")],
                     memory=[*count, (*res, "memory")])
        requests = workload.pod_requests()
        use.cpu += requests.get("cpu", Decimal(0)) * placed.pods
        use.memory += requests.get("memory", Decimal(0)) * placed.pods
        if placed.store.storage is not None:
            use.claims += placed.pods
            use.storage += parse_quantity(placed.store.storage.size) * placed.pods
            use.add_locs(persistentVolumeClaims=count,
                         storage=[*count, (*placed.loc, "storage", "size")])
    return result


def _fmt(value: Decimal, binary: bool) -> str:
    if not binary:
        return format(value.normalize(), "f")
    for unit, size in (("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20)):
        if value >= size:
            amount = (value / size).quantize(Decimal("0.1")).normalize()
            return f"{format(amount, 'f')}{unit}"
    return str(int(value))


def data_quotas(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """The data stores of a namespace fit its ResourceQuota."""
    usage = usage_by_namespace(profile)
    for index, ns in enumerate(profile.spec.namespaces):
        use = usage.get(ns.name)
        if use is None or ns.quota is None:
            continue
        quota = ns.quota
        loc: Loc = ("spec", "namespaces", index, "quota")
        who = listed(list(use.names))
        checks: list[tuple[str, str | None, Decimal, bool]] = [
            ("cpu", quota.cpu, use.cpu, False),
            ("memory", quota.memory, use.memory, True),
            ("storage", quota.storage, use.storage, True),
        ]
        for key, limit, used, binary in checks:
            if limit is not None and used > parse_quantity(limit):
                yield at.relation((*loc, key), use.locs.get(key, []), f"the data stores in "
                                  f"{ns.name!r} ({who}) request {_fmt(used, binary)} {key}, "
                                  f"more than the quota of {limit}",
                                  "raise the quota or shrink the stores")
        counts = [("pods", quota.pods, use.pods),
                  ("persistentVolumeClaims", quota.persistent_volume_claims, use.claims)]
        for key, count_limit, count in counts:
            if count_limit is not None and count > count_limit:
                yield at.relation((*loc, key), use.locs.get(key, []), f"the data stores in "
                                  f"{ns.name!r} ({who}) run {count} "
                                  f"{'pods' if key == 'pods' else 'volume claims'}, more than "
                                  f"the quota of {count_limit}",
                                  "raise the quota or lower replicas")

