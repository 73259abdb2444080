"""Network policies (networking.k8s.io/v1), computed from the platform graph
(`aiplat_gen.platform.graph`), never written per case.

In every namespace of `spec.namespaces` (except `purpose: observability`, where Prometheus and
its exporters need broad access):

- `default-deny`: an empty `podSelector` with both policy types and no rules, so every pod of the
  namespace accepts and opens no connection that another policy does not allow;
- `allow-dns`: every pod may reach cluster DNS (pods labelled `k8s-app: kube-dns` in the
  namespace `kube-system`, selected by its `kubernetes.io/metadata.name` label) on port 53, UDP
  and TCP (large answers fall back to TCP).

Then one policy `workload-<name>` per model and data store, selecting its pods, whose ingress and
egress rules are exactly the graph's edges into and out of it: model servers accept only the
gateway's proxies (and models that use them) on their HTTP port and Prometheus on the metrics
port; they reach only the data stores they name, on those stores' ports. Ports are the pods'
container ports: NetworkPolicy sees traffic after the Service has translated its port.

Internet egress: a NetworkPolicy cannot match host names, so where the graph allows an outside
host (a model's weight source, a Weaviate module's provider, a managed vector database), the
policy allows HTTPS (443) to `0.0.0.0/0` except the private, carrier-grade NAT and link-local
ranges (which also keeps the cloud metadata endpoint out of reach), and only for the pods of
that edge. Weight sources get this only when `spec.security.networkPolicies.modelSourceHosts`
names a host, and only for the pods that download: a model's weights Job (policy
`workload-<model>-weights`, selecting `ai.platform/weights-for: <model>`), never its server
pods, which only wait for the Job's verified weights. Two exceptions keep HTTPS egress on the
server pods, because they read the weights themselves: Triton reading an `s3://`/`gs://`
repository, and models with per-replica volumes, which no Job can fill (`validate` warns).
Restricting to the named hosts needs an egress proxy or a CNI with FQDN policies (Cilium,
Calico Enterprise), which the profile cannot declare yet; the hosts are listed in the policy's
annotation.

Pods aiplat-gen does not render, such as the gateway's proxies, Prometheus or the CloudNativePG
operator, appear only as peers, selected by their namespace and labels.
"""

from __future__ import annotations

from typing import Any

from aiplat_gen.platform import graph as platform
from aiplat_gen.platform.graph import Edge, Node, PlatformGraph
from aiplat_gen.profile.schema.cluster import UNPROTECTED_PURPOSES
from aiplat_gen.render.components.base import RenderContext, Rendered, labels

COMPONENT = "network-policy"
NAMESPACE_LABEL = "kubernetes.io/metadata.name"
HOSTS_ANNOTATION = "ai.platform/egress-hosts"
NON_PUBLIC = ("10.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16", "172.16.0.0/12",
              "192.168.0.0/16")
"""Private (RFC 1918), carrier-grade NAT (RFC 6598) and link-local ranges."""


def render(ctx: RenderContext) -> Rendered:
    """Default-deny, DNS and per-workload policies of every protected namespace."""
    profile = ctx.profile
    if not profile.spec.security.network_policies.enabled:
        return Rendered()
    graph = platform.platform_graph(profile)
    protected = protected_namespaces(ctx)
    objects: list[dict[str, Any]] = []
    for namespace in protected:
        common = {"namespace": namespace, "annotations": {}}
        objects += ctx.render("network-policies/networkpolicy.yaml.j2", name="default-deny",
                              labels=_labels(ctx, "default-deny"), pod_selector={},
                              policy_types=["Ingress", "Egress"], ingress=None, egress=None,
                              **common)
        objects += ctx.render("network-policies/networkpolicy.yaml.j2", name="allow-dns",
                              labels=_labels(ctx, "allow-dns"), pod_selector={},
                              policy_types=["Egress"], ingress=None, egress=[dns_rule()],
                              **common)
    for node in graph.workloads():
        if node.namespace not in protected:
            continue
        name = f"workload-{node.name}"
        hosts = sorted({h for e in graph.edges_from(node.id)
                        for h in graph.node(e.target).hosts})
        objects += ctx.render(
            "network-policies/networkpolicy.yaml.j2", name=name, namespace=node.namespace,
            labels=_labels(ctx, name),
            annotations={HOSTS_ANNOTATION: ",".join(hosts)} if hosts else {},
            pod_selector={"matchLabels": node.pod_labels}, policy_types=["Ingress", "Egress"],
            ingress=ingress_rules(graph, node), egress=egress_rules(graph, node))
    return Rendered(objects=objects)


def protected_namespaces(ctx: RenderContext) -> list[str]:
    """Namespaces that get the default-deny policy."""
    return [ns.name for ns in ctx.profile.spec.namespaces
            if ns.purpose not in UNPROTECTED_PURPOSES]


def _labels(ctx: RenderContext, name: str) -> dict[str, str]:
    return labels(ctx.profile, name, COMPONENT)


def dns_rule() -> dict[str, Any]:
    """Egress to cluster DNS on 53/UDP and 53/TCP."""
    port = platform.DNS_PORT
    return {"to": [{"namespaceSelector": {"matchLabels": {NAMESPACE_LABEL:
                                                          platform.DNS_NAMESPACE}},
                    "podSelector": {"matchLabels": dict(platform.DNS_LABELS)}}],
            "ports": [{"protocol": "UDP", "port": port}, {"protocol": "TCP", "port": port}]}


def peer(node: Node, of: Node) -> dict[str, Any]:
    """The NetworkPolicy peer selecting `node`'s pods, seen from `of`'s namespace."""
    if node.cidrs:
        raise ValueError("CIDR peers are rendered as ipBlocks")
    selector: dict[str, Any] = {"podSelector": {"matchLabels": dict(node.pod_labels)}}
    if node.namespace != of.namespace:
        selector = {"namespaceSelector": {"matchLabels": {NAMESPACE_LABEL: node.namespace}},
                    **selector}
    return selector


def _ports(edges: list[Edge]) -> list[dict[str, Any]]:
    ports = sorted({p for e in edges for p in e.ports}, key=lambda p: (p.number, p.protocol))
    return [{"protocol": p.protocol, "port": p.number} for p in ports]


def ingress_rules(graph: PlatformGraph, node: Node) -> list[dict[str, Any]]:
    """One rule per peer that may connect, with the ports it may use."""
    rules = []
    by_source: dict[str, list[Edge]] = {}
    for edge in graph.edges_to(node.id):
        by_source.setdefault(edge.source, []).append(edge)
    for source, edges in by_source.items():
        rules.append({"from": [peer(graph.node(source), node)], "ports": _ports(edges)})
    return rules


def egress_rules(graph: PlatformGraph, node: Node) -> list[dict[str, Any]]:
    """One rule per destination (DNS is the namespace-wide `allow-dns` policy), with internet
    destinations merged into one `ipBlock` rule."""
    rules = []
    internet: list[Edge] = []
    by_target: dict[str, list[Edge]] = {}
    for edge in graph.edges_from(node.id):
        target = graph.node(edge.target)
        if target.kind == "dns":
            continue
        if target.kind == "external":
            internet.append(edge)
        else:
            by_target.setdefault(edge.target, []).append(edge)
    for target_id, edges in by_target.items():
        target = graph.node(target_id)
        if target.cidrs:
            to: list[dict[str, Any]] = [{"ipBlock": {"cidr": c}} for c in target.cidrs]
        else:
            to = [peer(target, node)]
        rules.append({"to": to, "ports": _ports(edges)})
    if internet:
        rules.append({"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": list(NON_PUBLIC)}}],
                      "ports": _ports(internet)})
    return rules
