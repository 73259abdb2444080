"""The data layer: Weaviate clustering, Redis, PostgreSQL with pgvector, managed stores, and the
data checks. Expected values come from the engines' own documentation and charts (cited per
test), never from the code under test."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from aiplat_gen.checks.data import references
from aiplat_gen.core.errors import Severity
from aiplat_gen.profile.locator import Locator
from aiplat_gen.profile.schema.data import VectorDatabase, VectorDatabaseName
from aiplat_gen.profile.schema.profile import Profile, Spec
from aiplat_gen.profile.schema.secrets import walk
from aiplat_gen.profile.schema.types import Strict
from test_data_layer_support import (
    REDIS,
    WEAVIATE,
    env_of,
    find,
    problems,
    profile,
    render,
    validate,
)

# The Weaviate Helm chart's own test table (weaviate-helm .cicd/test.sh): replicas -> voters.
CHART_VOTERS = {1: 1, 2: 1, 3: 3, 4: 3, 5: 3, 6: 3, 7: 3, 8: 3, 9: 3, 10: 5, 11: 5, 100: 5}


def weaviate(**changes: Any) -> dict[str, Any]:
    db = copy.deepcopy(WEAVIATE)
    db.update(changes)
    return db


@pytest.mark.parametrize(("replicas", "voters"), sorted(CHART_VOTERS.items()))
def test_raft_voters_follow_the_chart_rule(replicas: int, voters: int) -> None:
    db = VectorDatabase.model_validate(weaviate(replicas=replicas))
    assert db.raft_voters == voters


def test_three_replica_cluster_env(tmp_path: Path) -> None:
    doc = profile(vectorDatabases=[weaviate(weaviate={"gossipPort": 7100})])
    objects = render(tmp_path, doc)
    sts = find(objects, "StatefulSet", "vectors")
    env = env_of(sts["spec"]["template"]["spec"]["containers"][0])
    assert env["CLUSTER_HOSTNAME"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert (env["CLUSTER_GOSSIP_BIND_PORT"], env["CLUSTER_DATA_BIND_PORT"]) == ("7100", "7101")
    assert env["CLUSTER_JOIN"] == "vectors-headless.rag.svc.cluster.local"
    assert env["RAFT_JOIN"] == "vectors-0,vectors-1,vectors-2"
    assert env["RAFT_BOOTSTRAP_EXPECT"] == "3"
    assert env["AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED"] == "false"
    assert env["AUTHENTICATION_APIKEY_ENABLED"] == "true"
    assert env["AUTHENTICATION_APIKEY_ALLOWED_KEYS"] == {
        "secretKeyRef": {"name": "vectors-keys", "key": "allowed-keys"}}
    assert env["AUTHENTICATION_APIKEY_USERS"] == "app"
    assert sts["spec"]["podManagementPolicy"] == "Parallel"
    assert sts["spec"]["serviceName"] == "vectors-headless"
    headless = find(objects, "Service", "vectors-headless")["spec"]
    assert headless["clusterIP"] == "None" and headless["publishNotReadyAddresses"] is True
    client = find(objects, "Service", "vectors")["spec"]
    assert {(p["name"], p["port"]) for p in client["ports"]} >= {("http", 8080),
                                                                  ("grpc", 50051)}
    assert find(objects, "PodDisruptionBudget", "vectors")["spec"]["maxUnavailable"] == 1
    anti = sts["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
    assert anti["requiredDuringSchedulingIgnoredDuringExecution"][0]["topologyKey"] == \
        "kubernetes.io/hostname"
    claim = sts["spec"]["volumeClaimTemplates"][0]["spec"]
    assert claim["storageClassName"] == "standard"


def test_single_node_has_one_voter_and_no_budget(tmp_path: Path) -> None:
    objects = render(tmp_path, profile(vectorDatabases=[weaviate(replicas=1)]))
    env = env_of(find(objects, "StatefulSet", "vectors")["spec"]["template"]["spec"][
        "containers"][0])
    assert (env["RAFT_JOIN"], env["RAFT_BOOTSTRAP_EXPECT"]) == ("vectors-0", "1")
    assert not [o for o in objects if o["kind"] == "PodDisruptionBudget"]


def test_modules_enable_keys_and_egress() -> None:
    db = VectorDatabase.model_validate(weaviate(weaviate={
        "modules": [{"name": "text2vec-openai", "apiKey": {"name": "keys", "key": "openai"}},
                    {"name": "generative-cohere", "apiKey": {"name": "keys", "key": "cohere"}}],
        "defaultVectorizer": "text2vec-openai"}))
    # Default base URLs of the modules in weaviate/weaviate (modules/*/ent|config).
    assert db.egress_hosts() == ["api.cohere.ai", "api.openai.com"]


@pytest.mark.parametrize(("changes", "message"), [
    ({"weaviate": {"defaultVectorizer": "text2vec-openai"}}, "is not an enabled module"),
    ({"weaviate": {"modules": [{"name": "ref2vec-centroid", "apiKey": {"name": "k"}}]}},
     "takes no API key"),
    ({"weaviate": {"modules": [
        {"name": "text2vec-openai", "apiKey": {"name": "a", "key": "openai"}},
        {"name": "generative-openai", "apiKey": {"name": "b", "key": "openai"}}]}},
     "must name the same `apiKey`"),
    ({"auth": {"secret": {"name": "k"}}}, "need `auth.users`"),
    ({"pgvector": {}}, "do not apply to engine 'weaviate'"),
    ({"storage": None}, "needs `storage`"),
])
def test_weaviate_model_refuses(changes: dict[str, Any], message: str) -> None:
    db = weaviate(**changes)
    db = {k: v for k, v in db.items() if v is not None}
    with pytest.raises(ValidationError, match=message):
        VectorDatabase.model_validate(db)


def test_pinecone_runs_nothing_and_records_egress(tmp_path: Path) -> None:
    pinecone = {"name": "docs-index", "engine": "pinecone", "namespace": "rag",
                "auth": {"secret": {"name": "pinecone", "key": "api-key",
                                    "remote": {"key": "rag/pinecone"}}},
                "pinecone": {"indexHost": "docs-abc1234.svc.aped-4627-b74a.pinecone.io"}}
    doc = profile(vectorDatabases=[pinecone])
    objects = render(tmp_path, doc)
    # Nothing runs: besides the namespace's network policies, only the key's ExternalSecret.
    assert [o["kind"] for o in objects if o["metadata"].get("namespace") == "rag"
            and o["kind"] != "NetworkPolicy"] == ["ExternalSecret"]
    db = validate(tmp_path, doc).profile.spec.vector_databases[0]
    # api.pinecone.io is Pinecone's control plane (docs.pinecone.io, authentication).
    assert db.egress_hosts() == ["api.pinecone.io", "docs-abc1234.svc.aped-4627-b74a.pinecone.io"]
    with pytest.raises(ValidationError, match="storage must be omitted"):
        VectorDatabase.model_validate({**pinecone, "storage": {"size": "1Gi"}})


def test_redis_password_stays_in_the_secret(tmp_path: Path) -> None:
    objects = render(tmp_path, profile(caches=[REDIS]))
    deploy = find(objects, "Deployment", "cache")
    assert deploy["spec"]["strategy"]["type"] == "Recreate"
    redis, exporter = deploy["spec"]["template"]["spec"]["containers"]
    args = redis["args"]
    assert args[args.index("--requirepass") + 1] == "$(REDIS_PASSWORD)"
    # 1Gi in bytes; Redis reads a plain number as bytes.
    assert args[args.index("--maxmemory") + 1] == "1073741824"
    assert args[args.index("--maxmemory-policy") + 1] == "allkeys-lru"
    ref = {"secretKeyRef": {"name": "cache-redis", "key": "password"}}
    assert env_of(redis)["REDIS_PASSWORD"] == ref and env_of(redis)["REDISCLI_AUTH"] == ref
    # redis_exporter reads REDIS_ADDR and REDIS_PASSWORD (its README) and serves 9121.
    assert env_of(exporter) == {"REDIS_ADDR": "redis://localhost:6379", "REDIS_PASSWORD": ref}
    assert exporter["ports"][0]["containerPort"] == 9121
    assert not [o for o in objects if o["kind"] in ("ConfigMap", "Secret")]


def test_redis_persistence_makes_a_statefulset(tmp_path: Path) -> None:
    cache = copy.deepcopy(REDIS)
    cache["redis"].update(persistence="aof", exporter=False)
    cache["storage"] = {"size": "5Gi", "storageClass": "standard"}
    objects = render(tmp_path, profile(caches=[cache]))
    sts = find(objects, "StatefulSet", "cache")
    args = sts["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[args.index("--appendonly") + 1] == "yes"
    assert len(sts["spec"]["template"]["spec"]["containers"]) == 1
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"] == {
        "storage": "5Gi"}


def pgvector(operator: str, replicas: int = 1) -> dict[str, Any]:
    return {"name": "docs", "engine": "pgvector", "namespace": "rag", "replicas": replicas,
            "storage": {"size": "10Gi", "storageClass": "standard"},
            "resources": {"cpu": "1", "memory": "2Gi"},
            "auth": {"secret": {"name": "docs-app", "key": "password", "username": "owner",
                                "remote": {"key": "rag/docs"}}},
            "pgvector": {"operator": operator, "database": "docs"}}


def test_cloudnative_pg_cluster(tmp_path: Path) -> None:
    objects = render(tmp_path, profile(vectorDatabases=[pgvector("cloudnative-pg", 3)]))
    cluster = find(objects, "Cluster", "docs")
    assert cluster["apiVersion"] == "postgresql.cnpg.io/v1"
    spec = cluster["spec"]
    assert spec["instances"] == 3
    assert spec["storage"] == {"size": "10Gi", "storageClass": "standard"}
    initdb = spec["bootstrap"]["initdb"]
    assert initdb["secret"] == {"name": "docs-app"}
    assert (initdb["database"], initdb["owner"]) == ("docs", "owner")
    assert initdb["postInitApplicationSQL"] == ["CREATE EXTENSION IF NOT EXISTS vector"]
    # The CloudNativePG postgres-containers images install postgresql-<major>-pgvector.
    assert spec["imageName"].startswith("ghcr.io/cloudnative-pg/postgresql:")
    secret = find(objects, "ExternalSecret", "docs-app")["spec"]["target"]["template"]
    assert secret["type"] == "kubernetes.io/basic-auth"
    assert secret["data"]["username"] == "owner"


def test_plain_statefulset_without_the_operator(tmp_path: Path) -> None:
    objects = render(tmp_path, profile(vectorDatabases=[pgvector("none")]))
    sts = find(objects, "StatefulSet", "docs")
    container = sts["spec"]["template"]["spec"]["containers"][0]
    assert container["image"].startswith("pgvector/pgvector:")
    env = env_of(container)
    assert env["POSTGRES_PASSWORD"] == {"secretKeyRef": {"name": "docs-app", "key": "password"}}
    assert (env["POSTGRES_USER"], env["POSTGRES_DB"]) == ("owner", "docs")
    init = find(objects, "ConfigMap", "docs-initdb")["data"]
    assert list(init.values()) == ["CREATE EXTENSION IF NOT EXISTS vector;\n"]
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert "/docker-entrypoint-initdb.d" in mounts


def test_every_data_pod_is_restricted(tmp_path: Path) -> None:
    cache = copy.deepcopy(REDIS)
    doc = profile(vectorDatabases=[weaviate(), pgvector("none") | {"name": "pg"}],
                  caches=[cache])
    workloads = [o for o in render(tmp_path, doc)
                 if o["kind"] in ("StatefulSet", "Deployment")]
    assert len(workloads) == 3
    for obj in workloads:
        pod = obj["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        for container in pod["containers"]:
            ctx = container["securityContext"]
            assert ctx["allowPrivilegeEscalation"] is False
            assert ctx["capabilities"] == {"drop": ["ALL"]}
            assert container["resources"]["limits"]["memory"]


def _messages(tmp_path: Path, doc: dict[str, Any]) -> list[tuple[str, str, Severity]]:
    return [(d.path, d.message, d.severity) for d in problems(tmp_path, doc)]


def test_warnings_for_weak_clusters(tmp_path: Path) -> None:
    cache = copy.deepcopy(REDIS)
    cache["redis"]["maxMemory"] = "1800Mi"
    found = _messages(tmp_path, profile(vectorDatabases=[weaviate(replicas=2)], caches=[cache]))
    assert ("spec.vectorDatabases[0].replicas",
            "2 replicas give 1 Raft voter: losing it stops schema changes",
            Severity.WARNING) in found
    assert ("spec.caches[0].redis.maxMemory",
            "maxMemory 1800Mi is 88% of the container's memory 2Gi", Severity.WARNING) in found


def test_quota_counts_every_replica(tmp_path: Path) -> None:
    doc = profile(vectorDatabases=[weaviate()])
    doc["spec"]["namespaces"][0]["quota"] = {"storage": "25Gi", "memory": "10Gi"}
    # a relation: the message goes on to name the values it compares ("; compared with ...")
    found = [(path, message.split("; compared with")[0], severity)
             for path, message, severity in _messages(tmp_path, doc)]
    assert ("spec.namespaces[0].quota.storage",
            "the data stores in 'rag' (vectors) request 30Gi storage, more than the quota of 25Gi",
            Severity.ERROR) in found
    assert ("spec.namespaces[0].quota.memory",
            "the data stores in 'rag' (vectors) request 12Gi memory, more than the quota of 10Gi",
            Severity.ERROR) in found


def test_unknown_pool_and_gpu_pool(tmp_path: Path) -> None:
    doc = profile(vectorDatabases=[weaviate(replicas=1, nodePool="cpus")])
    assert ("spec.vectorDatabases[0].nodePool", "unknown node pool 'cpus'",
            Severity.ERROR) in _messages(tmp_path, doc)


class _RagApp(Strict):
    name: str
    namespace: str
    vector_database: VectorDatabaseName
    caches: list[VectorDatabaseName] = []


class _Spec(Spec):
    rag_apps: list[_RagApp] = []


class _Profile(Profile):
    spec: _Spec


def test_references_to_data_stores_are_checked_wherever_they_are(tmp_path: Path) -> None:
    doc = profile(vectorDatabases=[weaviate()])
    doc["spec"]["ragApps"] = [{"name": "qa", "namespace": "rag", "vectorDatabase": "vector",
                               "caches": ["vectors", "nope"]}]
    typed = _Profile.model_validate(doc)
    markers = [v.loc for v in walk(typed) if v.markers]
    assert ("spec", "ragApps", 0, "vectorDatabase") in markers
    found = [(d.path, d.message, d.hint) for d in references(typed, Locator({}, None))]
    assert found == [
        ("spec.ragApps[0].vectorDatabase",
         "no vector database named 'vector' in spec.vectorDatabases", "did you mean 'vectors'?"),
        ("spec.ragApps[0].caches[1]",
         "no vector database named 'nope' in spec.vectorDatabases", "known: vectors"),
    ]
