"""Checks of the data layer: names, namespaces, node pools, storage classes, Weaviate's Raft
voters and version, pgvector replication, Redis memory, and references to data stores by name
from anywhere in the profile."""

from __future__ import annotations

import re
from collections.abc import Iterator

from aiplat_gen.core.errors import Diagnostic, Severity
from aiplat_gen.core.hints import did_you_mean, listed
from aiplat_gen.platform.facts.images import store_image
from aiplat_gen.platform.pods import data_pod_ports
from aiplat_gen.platform.resolved import ResolvedDataService, resolve
from aiplat_gen.profile.locator import Locator
from aiplat_gen.profile.schema.data import RefersTo, VectorDatabase
from aiplat_gen.profile.schema.profile import Profile
from aiplat_gen.profile.schema.secrets import Loc, visits
from aiplat_gen.profile.schema.types import parse_quantity

WARNING = Severity.WARNING
MIN_WEAVIATE = (1, 25)
REDIS_HEADROOM = 0.8


def stores(profile: Profile) -> tuple[ResolvedDataService, ...]:
    """Every data store, vector databases first, with its place, pods and pool."""
    return resolve(profile).data_services


def _did_you_mean(value: str, choices: list[str]) -> str:
    return did_you_mean(value, choices, none="none are defined")


def data_names(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """Store names are unique per namespace: they name Services and workloads."""
    first: dict[tuple[str, str], Loc] = {}
    for placed in stores(profile):
        key = (placed.store.namespace, placed.store.name)
        if key in first:
            yield at.diagnostic((*placed.loc, "name"),
                                f"duplicate data store {key[1]!r} in namespace {key[0]!r}",
                                f"first defined at {_path(first[key])}")
        else:
            first[key] = placed.loc


def _path(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def pod_ports(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """No two ports of one data pod collide (the ports the component renders, `data_pod_ports`):
    `weaviate.gossipPort: 8079` would put the data port on 8080, the HTTP port."""
    for placed in stores(profile):
        ports = data_pod_ports(placed.store)
        seen: dict[int, str] = {}
        clashes = []
        for name, port in ports.items():
            if port in seen:
                first, second = sorted((name, seen[port]))
                clashes.append(f"`{first}` and `{second}` on {port}")
            else:
                seen[port] = name
        if not clashes:
            continue
        if not (isinstance(placed.store, VectorDatabase) and placed.store.engine == "weaviate"):
            yield at.diagnostic(placed.loc, "ports of one pod collide: " + "; ".join(clashes))
            continue
        # The gossip port g takes g and g + 1: both must miss every other port.
        taken = sorted({q for n, p in ports.items() if n not in ("gossip", "data")
                        for q in (p - 1, p)})
        yield at.diagnostic((*placed.loc, "weaviate", "gossipPort"),
                            "ports of one pod collide: " + "; ".join(clashes),
                            "the gossip port and the next one (the data port) must be free of "
                            f"the pod's other ports: not {_ranges(taken)}; the default is 7000")


def _ranges(numbers: list[int]) -> str:
    """[1, 2, 3, 7] -> '1-3, 7'."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return listed([f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs])


def data_namespaces(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """Every data store lives in a namespace the platform owns."""
    known = [n.name for n in profile.spec.namespaces]
    for placed in stores(profile):
        ns = placed.store.namespace
        if ns not in known:
            yield at.diagnostic((*placed.loc, "namespace"),
                                f"namespace {ns!r} is not one of the platform's namespaces",
                                _did_you_mean(ns, known))


def data_node_pools(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """A store's pool exists (or a CPU pool does), is a CPU pool, and has a node per replica
    (replicas of a store never share a node)."""
    names = [p.name for p in profile.spec.node_pools]
    for placed in stores(profile):
        store = placed.store
        if placed.pods == 0:
            continue
        pool = placed.pool
        loc = (*placed.loc, "nodePool")
        if pool is None:
            if store.node_pool:
                yield at.diagnostic(loc, f"unknown node pool {store.node_pool!r}",
                                    _did_you_mean(store.node_pool, names))
            else:
                yield at.diagnostic(placed.loc, f"{store.name!r} has no node pool to run on: "
                                    "the profile has no CPU pool", "name one with `nodePool`")
            continue
        if pool.gpu is not None:
            yield at.diagnostic(loc, f"{store.name!r} runs on GPU pool {pool.name!r}",
                                "data stores need no GPU; use a CPU pool", WARNING)
        if placed.pods > 1 and placed.pods > pool.nodes:
            yield at.diagnostic((*placed.loc, "replicas"),
                                f"{placed.pods} replicas of {store.name!r} need {placed.pods} "
                                f"nodes, but pool {pool.name!r} has {pool.nodes}",
                                "replicas never share a node; add nodes or lower replicas")


def data_storage(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """Every persistent store names its storage class."""
    for placed in stores(profile):
        storage = placed.storage
        if storage is not None and storage.storage_class is None:
            yield at.diagnostic((*placed.loc, "storage"),
                                f"{placed.store.name!r} keeps data but names no storage class",
                                "set storage.storageClass: the cluster default may not "
                                "replicate or may delete volumes with their claims")


def _version(image: str) -> tuple[int, int] | None:
    tag = image.split("@", 1)[0].rsplit("/", 1)[-1].partition(":")[2]
    match = re.match(r"^v?([0-9]+)\.([0-9]+)", tag)
    return (int(match.group(1)), int(match.group(2))) if match else None


def weaviate_cluster(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """Weaviate 1.25+ (Raft); voters no more than replicas, and an odd number of them."""
    for index, db in enumerate(profile.spec.vector_databases):
        if db.engine != "weaviate":
            continue
        loc = ("spec", "vectorDatabases", index)
        version = _version(store_image(db))
        if version is not None and version < MIN_WEAVIATE:
            yield at.diagnostic((*loc, "image"),
                                f"Weaviate {version[0]}.{version[1]} is older than 1.25; "
                                "aiplat-gen renders the Raft cluster settings of 1.25+",
                                "use a 1.25 or later image")
        voters, replicas = db.raft_voters, db.replicas
        vloc = (*loc, "weaviate", "raftVoters")
        if voters > replicas:
            yield at.diagnostic(vloc, f"{voters} Raft voters but only {replicas} replicas",
                                f"at most {replicas} voters")
        elif voters % 2 == 0:
            yield at.diagnostic(vloc, f"{voters} Raft voters tolerate no more failures than "
                                f"{voters - 1}", "use an odd number of voters", WARNING)
        if replicas == 2 and db.weaviate_settings.raft_voters is None:
            yield at.diagnostic((*loc, "replicas"),
                                "2 replicas give 1 Raft voter: losing it stops schema changes",
                                "use 3 replicas for a fault-tolerant cluster", WARNING)


def pgvector_replication(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """A plain StatefulSet is one PostgreSQL: replicas need the CloudNativePG operator."""
    for index, db in enumerate(profile.spec.vector_databases):
        if db.engine == "pgvector" and db.pgvector_settings.operator == "none" \
                and db.replicas > 1:
            yield at.diagnostic(("spec", "vectorDatabases", index, "replicas"),
                                f"{db.replicas} replicas with `operator: none`: a plain "
                                "StatefulSet runs one PostgreSQL and cannot replicate it",
                                "use `operator: cloudnative-pg` or 1 replica")


def redis_memory(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """`maxmemory` fits the container's memory with room for Redis's own overhead."""
    for index, cache in enumerate(profile.spec.caches):
        if cache.resources is None or parse_quantity(cache.resources.memory) <= 0:
            continue
        limit = parse_quantity(cache.resources.memory)
        max_memory = parse_quantity(cache.redis.max_memory)
        loc = ("spec", "caches", index, "redis", "maxMemory")
        share = max_memory / limit
        if max_memory > limit:
            yield at.diagnostic(loc, f"maxMemory {cache.redis.max_memory} is more than the "
                                f"container's memory {cache.resources.memory}",
                                "Redis would be OOM-killed before it evicts anything")
        elif share > REDIS_HEADROOM:
            yield at.diagnostic(loc, f"maxMemory {cache.redis.max_memory} is {share:.0%} of the "
                                f"container's memory {cache.resources.memory}",
                                f"keep it at most {REDIS_HEADROOM:.0%}: buffers, fragmentation "
                                "and persistence forks need the rest", WARNING)


def references(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """Names of data stores used elsewhere in the profile (e.g. by models) exist."""
    known = {"vectorDatabases": [d.name for d in profile.spec.vector_databases],
             "caches": [c.name for c in profile.spec.caches]}
    for visit in visits(profile):
        if not isinstance(visit.value, str):
            continue
        for marker in visit.markers:
            if isinstance(marker, RefersTo) and visit.value not in known[marker.collection]:
                yield at.diagnostic(visit.loc, f"no {_kind(marker)} named {visit.value!r} "
                                    f"in spec.{marker.collection}",
                                    _did_you_mean(visit.value, known[marker.collection]))


def _kind(marker: RefersTo) -> str:
    return "vector database" if marker.collection == "vectorDatabases" else "cache"
