"""Profile models of the data layer: vector databases (`spec.vectorDatabases`) and caches
(`spec.caches`).

Every entry has the same common fields (name, engine, namespace, image, storage, resources, auth,
node pool) and one section of engine-specific settings named after its engine (`weaviate`,
`pgvector`, `pinecone`, `redis`). Credentials are `SecretRef`s, never values.

Other parts of the profile refer to a data store by name with the `VectorDatabaseName` and
`CacheName` types; the `data.references` check finds every such field, wherever it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from aiplat_gen.profile.schema.secrets import SecretRef
from aiplat_gen.profile.schema.types import DnsLabel, ImageRef, Quantity, Strict

DNS_SUBDOMAIN_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"

StorageClassName = Annotated[
    str, StringConstraints(min_length=1, max_length=253, pattern=DNS_SUBDOMAIN_PATTERN),
    Field(examples=["gp3"]),
]
Hostname = Annotated[
    str, StringConstraints(min_length=3, max_length=253,
                           pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$"),
    Field(description="A fully qualified host name (no scheme, no port).",
          examples=["api.pinecone.io"]),
]
PgIdentifier = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]{0,62}$")]
StoreName = Annotated[
    str, StringConstraints(min_length=1, max_length=40, pattern=r"^[a-z]([-a-z0-9]*[a-z0-9])?$"),
    Field(description="A DNS-1035 label of at most 40 characters (it names Services, which must "
          "start with a letter, and pods `<name>-<n>` of StatefulSets).", examples=["weaviate"]),
]


@dataclass(frozen=True)
class RefersTo:
    """Annotation marker: this name must be the name of an entry of `spec.<collection>`."""

    collection: Literal["vectorDatabases", "caches"]


VectorDatabaseName = Annotated[DnsLabel, RefersTo("vectorDatabases")]
"""The name of an entry of `spec.vectorDatabases` (for other parts of the profile)."""
CacheName = Annotated[DnsLabel, RefersTo("caches")]
"""The name of an entry of `spec.caches` (for other parts of the profile)."""

PINECONE_API_HOST = "api.pinecone.io"


@dataclass(frozen=True)
class WeaviateModuleInfo:
    """What a Weaviate module needs: the env var of its provider API key and its egress."""

    api_key_env: str | None
    egress_hosts: tuple[str, ...]


# The modules aiplat-gen knows, with the provider API-key variable the Weaviate Helm chart sets
# and the provider host of the module's default base URL.
WEAVIATE_MODULES: dict[str, WeaviateModuleInfo] = {
    "text2vec-openai": WeaviateModuleInfo("OPENAI_APIKEY", ("api.openai.com",)),
    "generative-openai": WeaviateModuleInfo("OPENAI_APIKEY", ("api.openai.com",)),
    "text2vec-cohere": WeaviateModuleInfo("COHERE_APIKEY", ("api.cohere.ai",)),
    "generative-cohere": WeaviateModuleInfo("COHERE_APIKEY", ("api.cohere.ai",)),
    "ref2vec-centroid": WeaviateModuleInfo(None, ()),
}
WeaviateModuleName = Literal["text2vec-openai", "generative-openai", "text2vec-cohere",
                             "generative-cohere", "ref2vec-centroid"]


class Storage(Strict):
    """Persistent storage of each replica (one PersistentVolumeClaim per pod)."""

    size: Quantity = Field(examples=["100Gi"])
    """Requested size of each replica's volume."""
    storage_class: StorageClassName | None = Field(default=None, examples=["gp3"])
    """StorageClass of the volumes. Required for every persistent data store (the `data.storage`
    check): the cluster default is often a class without replication or with `Delete` reclaim."""


class DataResources(Strict):
    """Requests and limits of the data store's main container."""

    cpu: Quantity = Field(examples=["2"])
    """CPU request."""
    memory: Quantity = Field(examples=["8Gi"])
    """Memory request, and the memory limit (equal, so the pod is never OOM-killed for using
    memory it asked for)."""
    cpu_limit: Quantity | None = Field(default=None, examples=["4"])
    """CPU limit; omit for none (throttling a database hurts more than it protects)."""


class DataAuth(Strict):
    """Credentials of a data store, by reference."""

    secret: SecretRef
    """Weaviate: the allowed API keys, comma-separated (`AUTHENTICATION_APIKEY_ALLOWED_KEYS`).
    pgvector: the owner's credentials, a `kubernetes.io/basic-auth` Secret (set `username`).
    Pinecone: the API key the models use. Redis: the password (`requirepass`)."""
    users: list[Annotated[str, StringConstraints(pattern=r"^[^,\s]+$", max_length=253)]] = Field(
        default_factory=list, examples=[["rag-app"]])
    """Weaviate only: the user identities of the API keys (`AUTHENTICATION_APIKEY_USERS`): one
    for all keys, or one per key in the same order."""


class WeaviateModule(Strict):
    """A Weaviate module to enable (`ENABLE_MODULES`)."""

    name: WeaviateModuleName
    """Module name; aiplat-gen knows its provider API-key variable and egress host."""
    api_key: SecretRef | None = None
    """The provider API key, if Weaviate holds it (clients may also send it per request)."""


class WeaviateSettings(Strict):
    """Weaviate-specific settings. The replication factor is a per-collection setting
    (`replicationConfig.factor` when a collection is created), not a server setting: keep it at
    most `replicas`."""

    modules: list[WeaviateModule] = Field(default_factory=list)
    """Modules to enable; their provider hosts become the egress the network policies allow."""
    default_vectorizer: str = Field(default="none", examples=["text2vec-openai"])
    """`DEFAULT_VECTORIZER_MODULE`: `none` or an enabled `text2vec-*` module."""
    raft_voters: int | None = Field(default=None, ge=1, le=9, examples=[3])
    """Raft voters (`RAFT_BOOTSTRAP_EXPECT`, the first N pods in `RAFT_JOIN`). Default by the
    Weaviate chart's rule: 1 below 3 replicas, 3 below 10, else 5."""
    gossip_port: int = Field(default=7000, ge=1024, le=65534)
    """`CLUSTER_GOSSIP_BIND_PORT`; the data port (`CLUSTER_DATA_BIND_PORT`) is always the next
    one, as Weaviate requires."""
    metrics: bool = True
    """Expose Prometheus metrics on port 2112 (`PROMETHEUS_MONITORING_ENABLED`)."""

    @model_validator(mode="after")
    def _vectorizer_enabled(self) -> WeaviateSettings:
        enabled = [m.name for m in self.modules]
        if self.default_vectorizer != "none" and self.default_vectorizer not in enabled:
            raise ValueError(f"defaultVectorizer {self.default_vectorizer!r} is not an enabled "
                             "module; enable it under `modules` or use `none`")
        keys: dict[str, SecretRef] = {}
        for module in self.modules:
            env = WEAVIATE_MODULES[module.name].api_key_env
            if module.api_key is None:
                continue
            if env is None:
                raise ValueError(f"module {module.name!r} takes no API key")
            if keys.setdefault(env, module.api_key) != module.api_key:
                raise ValueError(f"modules sharing {env} must name the same `apiKey` "
                                 f"(module {module.name!r} names another)")
        if len(enabled) != len(set(enabled)):
            raise ValueError("a module is listed twice")
        return self


class PgvectorSettings(Strict):
    """PostgreSQL with the pgvector extension."""

    operator: Literal["cloudnative-pg", "none"] = "cloudnative-pg"
    """`cloudnative-pg`: a CloudNativePG `Cluster` (the operator must be installed) with
    streaming replicas and failover. `none`: a plain single-instance StatefulSet."""
    database: PgIdentifier = "app"
    """The application database; `CREATE EXTENSION IF NOT EXISTS vector` runs in it at
    bootstrap. Its owner is the `username` of `auth.secret`."""


class PineconeSettings(Strict):
    """Pinecone, a managed vector database: nothing runs in the cluster."""

    index_host: Hostname = Field(examples=["rag-docs-abc1234.svc.aped-4627-b74a.pinecone.io"])
    """The index's data-plane host (from the Pinecone console)."""


class RedisSettings(Strict):
    """Redis as the semantic cache: one primary, no replication."""

    max_memory: Quantity = Field(examples=["3Gi"])
    """`maxmemory`: the data set limit. Keep it well below `resources.memory` (Redis needs room
    for buffers and fragmentation)."""
    max_memory_policy: Literal["noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random",
                               "volatile-lru", "volatile-lfu", "volatile-random",
                               "volatile-ttl"] = "allkeys-lru"
    """`maxmemory-policy`: what Redis evicts when full (a cache wants `allkeys-lru`/`-lfu`)."""
    persistence: Literal["none", "rdb", "aof"] = "none"
    """`none` renders a Deployment without volumes; `rdb` (snapshots) or `aof` (append-only
    file) render a StatefulSet with a volume (needs `storage`)."""
    exporter: bool = True
    """Run the redis_exporter sidecar (Prometheus metrics on port 9121)."""
    exporter_image: ImageRef | None = Field(default=None,
                                            examples=["oliver006/redis_exporter:v1.88.0"])
    """Image of the exporter sidecar, pinned; omit for aiplat-gen's pinned default."""


Engine = Literal["weaviate", "pgvector", "pinecone"]


class DataStore(Strict):
    """Fields every data store has."""

    name: StoreName
    """Name of the store: of its workload, Services and (for StatefulSets) its pods."""
    namespace: DnsLabel = Field(examples=["rag-data"])
    """Namespace it runs in (for a managed store: where the clients and the API key live)."""
    image: ImageRef | None = Field(default=None,
                                   examples=["cr.weaviate.io/semitechnologies/weaviate:1.32.9"])
    """Container image, pinned; omit for aiplat-gen's pinned default for the engine."""
    storage: Storage | None = None
    """Persistent storage per replica (required for Weaviate, pgvector, and persistent Redis)."""
    resources: DataResources | None = None
    """Requests and limits (required for every store that runs in the cluster)."""
    auth: DataAuth
    """Credentials, by reference."""
    node_pool: DnsLabel | None = Field(default=None, examples=["cpu-general"])
    """Node pool to run on; default: the first CPU pool."""


class VectorDatabase(DataStore):
    """A vector database: Weaviate or PostgreSQL with pgvector in the cluster, or Pinecone."""

    engine: Engine
    """`weaviate`, `pgvector` or `pinecone` (managed)."""
    replicas: int = Field(default=1, ge=1, le=100)
    """Pods (Weaviate nodes, PostgreSQL instances). For Weaviate, the replication factor of each
    collection is set when the collection is created and may not exceed this."""
    weaviate: WeaviateSettings | None = None
    """Settings for `engine: weaviate` (defaults apply when omitted)."""
    pgvector: PgvectorSettings | None = None
    """Settings for `engine: pgvector` (defaults apply when omitted)."""
    pinecone: PineconeSettings | None = None
    """Settings for `engine: pinecone` (required for it)."""

    @model_validator(mode="after")
    def _engine_sections(self) -> VectorDatabase:
        sections = {"weaviate": self.weaviate, "pgvector": self.pgvector,
                    "pinecone": self.pinecone}
        for section, value in sections.items():
            if value is not None and section != self.engine:
                raise ValueError(f"`{section}` settings do not apply to engine {self.engine!r}")
        if self.engine == "pinecone":
            if self.pinecone is None:
                raise ValueError("engine `pinecone` needs a `pinecone` section with `indexHost`")
            extra = [k for k, v in (("image", self.image), ("storage", self.storage),
                                    ("resources", self.resources), ("nodePool", self.node_pool))
                     if v is not None]
            if extra or self.replicas != 1:
                raise ValueError("Pinecone is managed: nothing runs in the cluster, so "
                                 + ", ".join([*extra, *(["replicas"] if self.replicas != 1
                                                        else [])]) + " must be omitted")
        else:
            missing = [k for k, v in (("storage", self.storage), ("resources", self.resources))
                       if v is None]
            if missing:
                raise ValueError(f"engine {self.engine!r} runs in the cluster and needs "
                                 + " and ".join(f"`{m}`" for m in missing))
        if self.auth.users and self.engine != "weaviate":
            raise ValueError("`auth.users` applies to Weaviate only")
        if self.engine == "pgvector" and self.auth.secret.username is None:
            raise ValueError("pgvector credentials are a kubernetes.io/basic-auth Secret: set "
                             "`auth.secret.username` (the database owner) and `key: password`")
        if self.engine == "weaviate" and not self.auth.users:
            raise ValueError("Weaviate API keys need `auth.users` (one user for all keys, or one "
                             "per key)")
        return self

    @property
    def weaviate_settings(self) -> WeaviateSettings:
        """The Weaviate section, or its defaults."""
        return self.weaviate or WeaviateSettings()

    @property
    def pgvector_settings(self) -> PgvectorSettings:
        """The pgvector section, or its defaults."""
        return self.pgvector or PgvectorSettings()

    @property
    def runs_in_cluster(self) -> bool:
        """False for managed stores (no workload)."""
        return self.engine != "pinecone"

    @property
    def raft_voters(self) -> int:
        """Weaviate's Raft voters: the profile's, or 1 below 3 replicas, 3 below 10, else 5."""
        explicit = self.weaviate_settings.raft_voters
        if explicit is not None:
            return explicit
        return 1 if self.replicas < 3 else 3 if self.replicas < 10 else 5

    def egress_hosts(self) -> list[str]:
        """Hosts outside the cluster this store (or its clients) must reach."""
        if self.engine == "pinecone":
            assert self.pinecone is not None
            return sorted({self.pinecone.index_host, PINECONE_API_HOST})
        if self.engine == "weaviate":
            return sorted({h for m in self.weaviate_settings.modules
                           for h in WEAVIATE_MODULES[m.name].egress_hosts})
        return []


class Cache(DataStore):
    """A cache next to the models (the semantic cache)."""

    engine: Literal["redis"]
    """`redis`."""
    redis: RedisSettings
    """Redis settings."""

    @model_validator(mode="after")
    def _storage(self) -> Cache:
        if self.resources is None:
            raise ValueError("a cache runs in the cluster and needs `resources`")
        if self.redis.persistence != "none" and self.storage is None:
            raise ValueError(f"persistence {self.redis.persistence!r} needs `storage`")
        if self.redis.persistence == "none" and self.storage is not None:
            raise ValueError("`storage` needs persistence `rdb` or `aof`; without persistence "
                             "the cache keeps no volume")
        if self.auth.users:
            raise ValueError("`auth.users` applies to Weaviate only")
        return self

    @property
    def persistent(self) -> bool:
        """True when Redis keeps its data on a volume (a StatefulSet)."""
        return self.redis.persistence != "none"
