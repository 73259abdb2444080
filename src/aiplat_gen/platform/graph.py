"""The platform graph: who talks to whom, on which ports, derived from the profile.

Nodes are the platform's workloads (models, vector databases, caches) and the parties around them
(the gateway's proxies, Prometheus, cluster DNS, the CloudNativePG operator, the Kubernetes API,
and hosts outside the cluster). Edges are the flows the platform needs, each with its ports and
purpose:

- gateway -> model, on the model's HTTP port, for every model with a route;
- model -> model, for `usesModels`; model -> vector database / cache, for `vectorDatabases` and
  `caches`, on the store's client ports (Weaviate 8080/50051, PostgreSQL 5432, Redis 6379);
- the pods of one store among themselves (Weaviate gossip, data and Raft ports; PostgreSQL
  replication and the CloudNativePG instance manager), the CloudNativePG operator -> its
  instances (8000, 5432) and the instances -> the Kubernetes API (when its addresses are named);
- Prometheus -> every metrics port (`scraping.scrape_targets`, which the monitors follow too);
  every workload -> cluster DNS (53, UDP and TCP);
- an object store repository's credentials (`platform.cloud_credentials`): HTTPS to the S3
  (and, for IRSA, STS) endpoints of the bucket's region or to Google's storage and token
  hosts, and the node-local credentials endpoint (EKS Pod Identity Agent, GKE metadata
  server) as an address block;
- HTTPS (443) to outside hosts (only where the profile names model source hosts): a model's
  weight sources, from the model's weights Job (`weights-job:<model>`, whose pods are labelled
  `ai.platform/weights-for: <model>` and carry no `ai.platform/model` label), or from the
  model's own pods where they read the weights themselves: Triton reading an `s3://` or
  `gs://` repository, and models with per-replica volumes, which no Job can fill; also a
  Weaviate module's provider and a managed vector database's hosts.

The network policies are computed from this graph (`components.network_policies`), and the
reachability test checks the rendered policies against it. The structure is plain data, so other
renderers (a Mermaid diagram) can use it too.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from aiplat_gen.platform import cloud_credentials
from aiplat_gen.platform.engines import EnginePort, descriptor
from aiplat_gen.platform.pods import (
    CNPG_LABEL,
    CNPG_STATUS_PORT,
    POSTGRES_PORT,
    REDIS_PORT,
    WEAVIATE_GRPC_PORT,
    WEAVIATE_HTTP_PORT,
    WEAVIATE_RAFT_PORTS,
    model_selector,
    store_selector,
    weights_job_selector,
)
from aiplat_gen.platform.scraping import ScrapeTarget, scrape_targets
from aiplat_gen.platform.workload_resources import fetches_in_pod, weights_job
from aiplat_gen.profile.schema.data import Cache, VectorDatabase
from aiplat_gen.profile.schema.profile import Profile
from aiplat_gen.profile.schema.serving import Model

NodeKind = Literal["gateway", "model", "weights-job", "vector-database", "cache", "prometheus",
                   "dns", "operator", "kubernetes-api", "credentials", "external"]
Protocol = Literal["TCP", "UDP"]
Purpose = Literal["inference", "model-call", "retrieval", "cache", "cluster", "metrics", "dns",
                  "operator", "kubernetes-api", "weights", "provider-api", "credentials"]

HTTPS = 443
DNS_PORT = 53
CNPG_OPERATOR_NAMESPACE = "cnpg-system"
CNPG_OPERATOR_LABELS = {"app.kubernetes.io/name": "cloudnative-pg"}
DNS_NAMESPACE = "kube-system"
DNS_LABELS = {"k8s-app": "kube-dns"}


@dataclass(frozen=True, order=True)
class Port:
    """A port a node serves."""

    number: int
    protocol: Protocol = "TCP"
    name: str = ""


@dataclass(frozen=True)
class Node:
    """A party of the platform graph. Pod nodes have a namespace and pod labels; external
    nodes have hosts or CIDRs instead."""

    id: str
    kind: NodeKind
    name: str
    namespace: str | None = None
    pod_labels: dict[str, str] = field(default_factory=dict)
    managed: bool = False
    """True when aiplat-gen renders the pods (they get a NetworkPolicy)."""
    hosts: tuple[str, ...] = ()
    cidrs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Edge:
    """A flow from `source` to `target` on `ports`; source == target for peers of one store."""

    source: str
    target: str
    ports: tuple[Port, ...]
    purpose: Purpose


@dataclass(frozen=True)
class PlatformGraph:
    """Nodes and edges, in a stable order."""

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]

    def node(self, node_id: str) -> Node:
        """The node with this id."""
        return self._by_id[node_id]

    def workloads(self) -> list[Node]:
        """The nodes whose pods aiplat-gen renders."""
        return [n for n in self.nodes if n.managed]

    def edges_to(self, node_id: str) -> list[Edge]:
        """Flows into a node."""
        return list(self._edges_to.get(node_id, ()))

    def edges_from(self, node_id: str) -> list[Edge]:
        """Flows out of a node."""
        return list(self._edges_from.get(node_id, ()))

    # Indexes built on first use: the network policies look up every workload's flows and peers.
    @functools.cached_property
    def _by_id(self) -> dict[str, Node]:
        return {n.id: n for n in reversed(self.nodes)}  # the first node of an id wins

    @functools.cached_property
    def _edges_to(self) -> dict[str, list[Edge]]:
        return _edges_by(self.edges, "target")

    @functools.cached_property
    def _edges_from(self) -> dict[str, list[Edge]]:
        return _edges_by(self.edges, "source")


def _edges_by(edges: tuple[Edge, ...], end: Literal["source", "target"]) -> dict[str, list[Edge]]:
    """Edges by the node at one end, in their order."""
    index: dict[str, list[Edge]] = {}
    for edge in edges:
        index.setdefault(getattr(edge, end), []).append(edge)
    return index


def model_id(name: str) -> str:
    """Node id of a model."""
    return f"model:{name}"


def store_id(name: str) -> str:
    """Node id of a vector database or cache."""
    return f"store:{name}"


def host_id(host: str) -> str:
    """Node id of a host outside the cluster."""
    return f"host:{host}"


def _port(port: EnginePort) -> Port:
    return Port(port.number, name=port.name)


def model_ports(model: Model) -> tuple[Port, ...]:
    """Ports the model's server listens on for clients (its HTTP API first)."""
    return tuple(_port(p) for p in descriptor(model.engine).api_ports)


def model_labels(model: Model) -> dict[str, str]:
    """Labels selecting the model's pods (all engines, KServe predictors included)."""
    return model_selector(model.name)


def weights_job_id(name: str) -> str:
    """Node id of a model's weights Job."""
    return f"weights-job:{name}"


def reads_weights_itself(model: Model) -> bool:
    """True when the model's server pods reach the weight source themselves: Triton reading an
    object store (`s3://`, `gs://`) at start, or the in-pod download of per-replica volumes.
    Every other download is the weights Job's (`workload_resources.weights_job`)."""
    return model.source.uri.startswith(("s3://", "gs://")) or fetches_in_pod(model)


def _store_node(store: VectorDatabase | Cache) -> Node:
    kind: NodeKind = "cache" if isinstance(store, Cache) else "vector-database"
    if isinstance(store, VectorDatabase) and store.engine == "pinecone":
        return Node(store_id(store.name), kind, store.name, store.namespace,
                    hosts=tuple(store.egress_hosts()))
    if isinstance(store, VectorDatabase) and store.engine == "pgvector" and \
            store.pgvector_settings.operator == "cloudnative-pg":
        labels = {CNPG_LABEL: store.name}
    else:
        labels = store_selector(store.name)
    return Node(store_id(store.name), kind, store.name, store.namespace, labels, managed=True)


def client_ports(store: VectorDatabase | Cache) -> tuple[Port, ...]:
    """Ports clients of a store connect to."""
    if isinstance(store, Cache):
        return (Port(REDIS_PORT, name="redis"),)
    if store.engine == "weaviate":
        return (Port(WEAVIATE_HTTP_PORT, name="http"), Port(WEAVIATE_GRPC_PORT, name="grpc"))
    if store.engine == "pgvector":
        return (Port(POSTGRES_PORT, name="postgres"),)
    return (Port(HTTPS, name="https"),)


def _peer_ports(store: VectorDatabase | Cache) -> tuple[Port, ...]:
    if isinstance(store, VectorDatabase) and store.engine == "weaviate" and store.replicas > 1:
        gossip = store.weaviate_settings.gossip_port
        return (Port(gossip, "TCP", "gossip"), Port(gossip, "UDP", "gossip-udp"),
                Port(gossip + 1, name="data"),
                *(Port(p, name="raft") for p in WEAVIATE_RAFT_PORTS))
    if _is_cnpg(store):
        return (Port(POSTGRES_PORT, name="postgres"), Port(CNPG_STATUS_PORT, name="status"))
    return ()


def _is_cnpg(store: VectorDatabase | Cache) -> bool:
    return isinstance(store, VectorDatabase) and store.engine == "pgvector" and \
        store.pgvector_settings.operator == "cloudnative-pg"


def _scrape(g: _Builder, prometheus: str, node: str, target: ScrapeTarget | None) -> None:
    """Prometheus -> the node on its metrics port: the targets of `scraping`, which the
    monitors are rendered from too."""
    if target is not None:
        g.edge(prometheus, node, (Port(target.port, name=target.port_name),), "metrics")


def prometheus_namespace(profile: Profile) -> str:
    """Namespace of the Prometheus pods."""
    pods = profile.spec.security.network_policies.prometheus
    if pods.namespace:
        return pods.namespace
    observability = profile.spec.observability
    return observability.namespace if observability is not None else "monitoring"


class _Builder:
    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []

    def add(self, node: Node) -> str:
        self.nodes.setdefault(node.id, node)
        return node.id

    def edge(self, source: str, target: str, ports: tuple[Port, ...], purpose: Purpose) -> None:
        if ports:
            self.edges.append(Edge(source, target, ports, purpose))

    def host(self, host: str) -> str:
        return self.add(Node(host_id(host), "external", host, hosts=(host,)))


def platform_graph(profile: Profile) -> PlatformGraph:
    """The graph of the profile's platform."""
    spec = profile.spec
    policies = spec.security.network_policies
    g = _Builder()
    dns = g.add(Node("dns", "dns", "kube-dns", DNS_NAMESPACE, dict(DNS_LABELS)))
    prometheus = g.add(Node("prometheus", "prometheus", "prometheus",
                            prometheus_namespace(profile), dict(policies.prometheus.pod_labels)))
    scraped = {(t.kind, t.name): t for t in scrape_targets(profile)}
    stores: dict[str, VectorDatabase | Cache] = {d.name: d for d in spec.vector_databases}
    stores.update({c.name: c for c in spec.caches})
    for model in spec.models:
        g.add(Node(model_id(model.name), "model", model.name, model.namespace,
                   model_labels(model), managed=True))
    for model in spec.models:
        if weights_job(model):
            g.add(Node(weights_job_id(model.name), "weights-job", f"{model.name}-weights",
                       model.namespace, weights_job_selector(model.name), managed=True))
    for store in stores.values():
        g.add(_store_node(store))
    gateway = spec.gateway
    if gateway is not None:
        gw = g.add(Node(f"gateway:{gateway.name}", "gateway", gateway.name,
                        gateway.data_plane_namespace, gateway.data_plane_labels))
        models = {m.name: m for m in spec.models}
        for route in gateway.routes:
            if route.model in models:
                g.edge(gw, model_id(route.model), model_ports(models[route.model])[:1],
                       "inference")
    for model in spec.models:
        node = model_id(model.name)
        for other in model.uses_models:
            target = next((m for m in spec.models if m.name == other), None)
            if target is not None:
                g.edge(node, model_id(other), model_ports(target), "model-call")
        for name in [*model.vector_databases, *model.caches]:
            used = stores.get(name)
            if used is None:
                continue
            if isinstance(used, VectorDatabase) and not used.runs_in_cluster:
                for host in used.egress_hosts():
                    g.edge(node, g.host(host), (Port(HTTPS, name="https"),), "provider-api")
                continue
            purpose: Purpose = "cache" if isinstance(used, Cache) else "retrieval"
            g.edge(node, store_id(name), client_ports(used), purpose)
        if reads_weights_itself(model):
            for host in policies.model_source_hosts:
                g.edge(node, g.host(host), (Port(HTTPS, name="https"),), "weights")
        for host in cloud_credentials.https_hosts(model):
            g.edge(node, g.host(host), (Port(HTTPS, name="https"),), "weights")
        agent = cloud_credentials.link_local(model)
        if agent is not None:
            endpoint = g.add(Node(f"credentials:{agent.name}", "credentials", agent.name,
                                  cidrs=(agent.cidr,)))
            g.edge(node, endpoint, (Port(agent.port, name="http"),), "credentials")
        if weights_job(model):
            job = weights_job_id(model.name)
            for host in policies.model_source_hosts:
                g.edge(job, g.host(host), (Port(HTTPS, name="https"),), "weights")
            g.edge(job, dns, (Port(DNS_PORT, "UDP", "dns"), Port(DNS_PORT, "TCP", "dns-tcp")),
                   "dns")
        _scrape(g, prometheus, node, scraped.get(("model", model.name)))
        g.edge(node, dns, (Port(DNS_PORT, "UDP", "dns"), Port(DNS_PORT, "TCP", "dns-tcp")),
               "dns")
    for store in stores.values():
        if isinstance(store, VectorDatabase) and not store.runs_in_cluster:
            continue
        node = store_id(store.name)
        g.edge(node, node, _peer_ports(store), "cluster")
        if isinstance(store, VectorDatabase) and store.engine == "weaviate":
            for host in store.egress_hosts():
                g.edge(node, g.host(host), (Port(HTTPS, name="https"),), "provider-api")
        if _is_cnpg(store):
            operator = g.add(Node("cnpg-operator", "operator", "cloudnative-pg",
                                  CNPG_OPERATOR_NAMESPACE, dict(CNPG_OPERATOR_LABELS)))
            g.edge(operator, node, (Port(CNPG_STATUS_PORT, name="status"),
                                    Port(POSTGRES_PORT, name="postgres")), "operator")
            if policies.api_server_cidrs:
                api = g.add(Node("kubernetes-api", "kubernetes-api", "kubernetes",
                                 cidrs=tuple(policies.api_server_cidrs)))
                g.edge(node, api, (Port(policies.api_server_port, name="https"),),
                       "kubernetes-api")
        _scrape(g, prometheus, node, scraped.get(("store", store.name)))
        g.edge(node, dns, (Port(DNS_PORT, "UDP", "dns"), Port(DNS_PORT, "TCP", "dns-tcp")),
               "dns")
    return PlatformGraph(tuple(g.nodes.values()), tuple(g.edges))


def iter_pod_edges(graph: PlatformGraph) -> Iterator[tuple[Node, Node, Port]]:
    """Every (source, target, port) the graph allows, one port at a time."""
    for edge in graph.edges:
        for port in edge.ports:
            yield graph.node(edge.source), graph.node(edge.target), port
