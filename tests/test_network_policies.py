"""Reachability of the prod render: for every pod, which peers the NetworkPolicies let reach it
and which it may reach, compared with the platform graph. No pod is reachable by anything the
graph does not name, and every edge the graph names is allowed."""

from __future__ import annotations

import copy
import ipaddress
import itertools
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from aiplat_gen.checks.policy.engine import matches
from aiplat_gen.checks.validate import validate_file
from aiplat_gen.cli import app
from aiplat_gen.platform.graph import PlatformGraph, platform_graph
from conftest import REPO
from test_network_policies_support import NAMESPACE_LABEL, Endpoint, Evaluator, workload_pods
from test_real_tools import kustomize_build

INTERNET = Endpoint("internet", "8.8.8.8")
METADATA = Endpoint("cloud-metadata", "169.254.169.254")
PRIVATE = Endpoint("private-host", "192.168.10.10")
Flow = tuple[str, str, int, str]


@pytest.fixture(scope="module")
def prod() -> tuple[list[dict[str, Any]], PlatformGraph]:
    """The kustomize-built prod overlay and the graph of the prod profile."""
    out = Path(tempfile.mkdtemp(prefix="netpol-")) / "output"
    result = CliRunner().invoke(app, ["render", "--all", "--profiles-dir",
                                      str(REPO / "profiles"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    objects = kustomize_build(out / "overlays" / "prod")
    return objects, platform_graph(validate_file(REPO / "profiles" / "prod.yaml").profile)


def _world(objects: list[dict[str, Any]], graph: PlatformGraph
           ) -> tuple[list[Endpoint], dict[str, list[Endpoint]]]:
    """Rendered pods, the parties around them, intruders, and which endpoints stand for each
    graph node."""
    counter = itertools.count(10)
    endpoints = [Endpoint(f"{ns}/{name}", f"10.244.0.{next(counter)}", ns, labels, True)
                 for name, ns, labels in workload_pods(objects)]
    for node in graph.nodes:
        if node.namespace is not None and not node.managed:
            endpoints.append(Endpoint(node.id, f"10.244.1.{next(counter)}", node.namespace,
                                      node.pod_labels))
    namespaces = sorted({o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"})
    for ns in [*namespaces, "elsewhere"]:
        endpoints.append(Endpoint(f"intruder@{ns}", f"10.244.2.{next(counter)}", ns,
                                  {"app": "intruder"}))
    api = [Endpoint(f"api@{c}", str(next(iter(ipaddress.ip_network(c).hosts()))))
           for n in graph.nodes for c in n.cidrs]
    endpoints += [INTERNET, METADATA, PRIVATE, *api]
    members: dict[str, list[Endpoint]] = {}
    for node in graph.nodes:
        if node.kind == "external":
            members[node.id] = [INTERNET]
        elif node.cidrs:
            members[node.id] = api
        else:
            members[node.id] = [e for e in endpoints if e.is_pod and e.namespace == node.namespace
                                and matches({"matchLabels": node.pod_labels}, e.labels)
                                and not e.name.startswith("intruder@")]
    return endpoints, members


def _expected(graph: PlatformGraph, members: dict[str, list[Endpoint]]) -> set[Flow]:
    return {(s.name, t.name, p.number, p.protocol) for e in graph.edges for p in e.ports
            for s in members[e.source] for t in members[e.target]}


def _ports(graph: PlatformGraph) -> list[tuple[int, str]]:
    ports = {(p.number, p.protocol) for e in graph.edges for p in e.ports}
    return sorted(ports | {(22, "TCP"), (80, "TCP"), (443, "TCP"), (53, "UDP"), (8080, "TCP")})


def reachability(objects: list[dict[str, Any]], graph: PlatformGraph
                 ) -> tuple[set[Flow], set[Flow]]:
    """(edges of the graph the policies block, flows the policies allow that the graph does
    not name), over every pair with a rendered pod on at least one side."""
    endpoints, members = _world(objects, graph)
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    ns_labels = {o["metadata"]["name"]: o["metadata"].get("labels", {})
                 for o in objects if o["kind"] == "Namespace"}
    evaluator = Evaluator(policies, ns_labels)
    expected = _expected(graph, members)
    by_name = {e.name: e for e in endpoints}
    blocked = {f for f in expected
               if not evaluator.allowed(by_name[f[0]], by_name[f[1]], f[2], f[3])}
    extra: set[Flow] = set()
    for source, target in itertools.permutations(endpoints, 2):
        if not (source.rendered or target.rendered):
            continue
        for port, protocol in _ports(graph):
            flow = (source.name, target.name, port, protocol)
            if flow not in expected and evaluator.allowed(source, target, port, protocol):
                extra.add(flow)
    return blocked, extra


def test_prod_policies_allow_exactly_the_graph(prod: tuple[list[dict[str, Any]],
                                                           PlatformGraph]) -> None:
    objects, graph = prod
    blocked, extra = reachability(objects, graph)
    assert not blocked, f"graph edges the policies block: {sorted(blocked)}"
    assert not extra, f"flows the graph does not name: {sorted(extra)}"
    pods = workload_pods(objects)
    edges = sum(len(e.ports) for e in graph.edges)
    print(f"\nreachability: {len(pods)} rendered workloads, {len(graph.nodes)} graph nodes, "
          f"{edges} graph port edges, all allowed, nothing else reachable")


def test_every_rendered_workload_is_a_graph_node(prod: tuple[list[dict[str, Any]],
                                                             PlatformGraph]) -> None:
    objects, graph = prod
    for name, namespace, labels in workload_pods(objects):
        nodes = [n for n in graph.workloads() if n.namespace == namespace and
                 matches({"matchLabels": n.pod_labels}, labels)]
        assert len(nodes) == 1, f"{namespace}/{name} is in {len(nodes)} graph nodes"


def test_the_prod_graph_holds_the_expected_flows(prod: tuple[list[dict[str, Any]],
                                                             PlatformGraph]) -> None:
    _, graph = prod
    flows = {(e.source, e.target, p.number) for e in graph.edges for p in e.ports}
    assert ("gateway:ai-gateway", "model:llama-70b", 8000) in flows
    assert ("model:llama-70b", "store:weaviate", 50051) in flows
    assert ("model:llama-70b", "store:docs-pg", 5432) in flows
    assert ("model:llama-70b", "store:semantic-cache", 6379) in flows
    assert ("model:llama-70b", "model:rag-encoders", 8001) in flows
    assert ("prometheus", "model:rag-encoders", 8002) in flows
    assert ("store:weaviate", "host:api.openai.com", 443) in flows
    assert ("model:llama-8b", "store:weaviate", 8080) not in flows


Mutation = Callable[[list[dict[str, Any]]], None]


def _drop_gateway_ingress(objects: list[dict[str, Any]]) -> None:
    policy = next(o for o in objects if o["kind"] == "NetworkPolicy" and
                  o["metadata"]["name"] == "workload-llama-8b")
    policy["spec"]["ingress"] = [r for r in policy["spec"]["ingress"]
                                 if "envoy-gateway-system" not in str(r)]


def _open_redis(objects: list[dict[str, Any]]) -> None:
    policy = next(o for o in objects if o["kind"] == "NetworkPolicy" and
                  o["metadata"]["name"] == "workload-semantic-cache")
    policy["spec"]["ingress"].append({"from": [{"namespaceSelector": {}}]})


def _drop_weaviate_policy(objects: list[dict[str, Any]]) -> None:
    objects[:] = [o for o in objects if not (o["kind"] == "NetworkPolicy" and
                                             o["metadata"]["name"] == "workload-weaviate")]


@pytest.mark.parametrize(("mutate", "missing", "unexpected"), [
    (_drop_gateway_ingress, ("gateway:ai-gateway", "llm-serving/llama-8b"), None),
    (_open_redis, None, ("intruder@elsewhere", "rag-data/semantic-cache")),
    (_drop_weaviate_policy, ("llm-serving/llama-70b", "rag-data/weaviate"), None),
], ids=["blocked-edge", "extra-flow", "default-deny-only"])
def test_the_comparison_catches_broken_policies(
        prod: tuple[list[dict[str, Any]], PlatformGraph], mutate: Mutation,
        missing: tuple[str, str] | None, unexpected: tuple[str, str] | None) -> None:
    objects, graph = prod
    broken = copy.deepcopy(objects)
    mutate(broken)
    blocked, extra = reachability(broken, graph)
    assert blocked or extra
    if missing:
        assert any(f[:2] == missing for f in blocked), sorted(blocked)
    if unexpected:
        assert any(f[:2] == unexpected for f in extra), sorted(extra)


def test_evaluator_semantics() -> None:
    """The evaluator itself: isolation, namespace selectors, ipBlock except, ports."""
    web = Endpoint("a/web", "10.244.0.1", "a", {"app": "web"}, True)
    other = Endpoint("b/client", "10.244.0.2", "b", {"app": "client"})
    deny = {"metadata": {"namespace": "a"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}
    allow = {"metadata": {"namespace": "a"}, "spec": {
        "podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {NAMESPACE_LABEL: "b"}},
                               "podSelector": {"matchLabels": {"app": "client"}}}],
                     "ports": [{"port": 80}]}],
        "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}],
                    "ports": [{"protocol": "TCP", "port": 443}]}]}}
    open_world = Evaluator([], {})
    assert open_world.allowed(other, web, 22, "TCP")
    denied = Evaluator([deny], {})
    assert not denied.allowed(other, web, 80, "TCP")
    both = Evaluator([deny, allow], {"b": {NAMESPACE_LABEL: "b"}})
    assert both.allowed(other, web, 80, "TCP")
    assert not both.allowed(other, web, 81, "TCP")
    assert not both.allowed(other, web, 80, "UDP")
    assert both.allowed(web, INTERNET, 443, "TCP")
    assert not both.allowed(web, Endpoint("x", "10.1.2.3"), 443, "TCP")
    assert not both.allowed(web, other, 443, "TCP")
