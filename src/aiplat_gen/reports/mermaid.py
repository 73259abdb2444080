"""The platform graph (`graph.platform_graph`) as a Mermaid flowchart, for `aiplat-gen graph` and
`output/README.md` (GitHub renders ```` ```mermaid ```` blocks).

By default the chart shows the request path: the gateway, the models it routes to, the models
they call, the vector databases and caches they use, and the hosts outside the cluster they reach
over HTTPS (the hosts weights are downloaded from grouped into one node). Each arrow carries its
ports. `all_flows=True` adds what every workload also has: Prometheus scraping metrics ports,
cluster DNS, the pods of a store talking among themselves, operators and the Kubernetes API.
Workloads are grouped by namespace. The output is deterministic: nodes and edges keep the
graph's order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aiplat_gen.platform.graph import Node, PlatformGraph, Port
from aiplat_gen.profile.schema.profile import Profile

REQUEST_PATH = frozenset({"inference", "model-call", "retrieval", "cache", "weights",
                          "provider-api"})
"""Purposes of the flows shown by default."""
SOURCES_ID = "model_sources"

_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def _escape(text: str) -> str:
    """Text for a quoted Mermaid label: quotes and angle brackets as entities."""
    return text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(
        ">", "#gt;")


@dataclass
class _Ids:
    """Mermaid-safe, unique ids for graph node ids (`model:llama-8b` -> `model_llama_8b`)."""

    taken: dict[str, str]

    def __call__(self, node_id: str) -> str:
        if node_id not in self.taken:
            base = _UNSAFE.sub("_", node_id)
            candidate, n = base, 1
            while candidate in self.taken.values():
                n += 1
                candidate = f"{base}_{n}"
            self.taken[node_id] = candidate
        return self.taken[node_id]


def _shape(node: Node, label: str) -> str:
    text = f'"{_escape(label)}"'
    if node.kind == "gateway":
        return "{{" + text + "}}"
    if node.kind == "model":
        return f"([{text}])"
    if node.kind in ("vector-database", "cache"):
        return f"[({text})]"
    if node.kind == "external":
        return f"[/{text}/]"
    return f"[{text}]"


def _ports(ports: tuple[Port, ...]) -> str:
    return ", ".join(f"{p.number}/{p.protocol}" + (f" {p.name}" if p.name else "")
                     for p in ports)


def flowchart(graph: PlatformGraph, labels: dict[str, str] | None = None,
              all_flows: bool = False) -> str:
    """The graph as a `flowchart LR`; `labels` replaces node labels by graph node id."""
    labels = labels or {}
    edges = [e for e in graph.edges if all_flows or e.purpose in REQUEST_PATH]
    ids = _Ids({})
    sources = sorted({graph.node(e.target).name for e in edges if e.purpose == "weights"})
    shown: dict[str, Node] = {}
    lines: list[str] = []
    for edge in edges:
        for end in (edge.source, edge.target):
            if not (edge.purpose == "weights" and end == edge.target):
                shown.setdefault(end, graph.node(end))
        target = SOURCES_ID if edge.purpose == "weights" else ids(edge.target)
        lines.append(f'{ids(edge.source)} -->|"{_escape(_ports(edge.ports))}"| {target}')
    # Workloads without any flow shown still belong in the picture.
    for node in graph.nodes:
        if node.managed or node.kind == "gateway":
            shown.setdefault(node.id, node)
    out = ["flowchart LR"]
    by_namespace: dict[str, list[Node]] = {}
    for node in graph.nodes:
        if node.id in shown and node.namespace:
            by_namespace.setdefault(node.namespace, []).append(node)
    for namespace, members in by_namespace.items():
        out.append(f'  subgraph {ids("namespace:" + namespace)} ["{_escape(namespace)}"]')
        out.extend(f"    {ids(n.id)}{_shape(n, labels.get(n.id, n.name))}" for n in members)
        out.append("  end")
    for node in graph.nodes:
        if node.id in shown and not node.namespace:
            label = labels.get(node.id, node.name)
            if node.cidrs:
                label += " (" + ", ".join(node.cidrs) + ")"
            out.append(f"  {ids(node.id)}{_shape(node, label)}")
    if sources:
        text = _escape("model sources: " + ", ".join(sources))
        out.append(f'  {SOURCES_ID}[/"{text}"/]')
    # dict.fromkeys: one arrow per model into the grouped sources node, order kept.
    out.extend(f"  {line}" for line in dict.fromkeys(lines))
    return "\n".join(out) + "\n"


def platform_flowchart(profile: Profile, all_flows: bool = False) -> str:
    """The profile's platform graph as Mermaid, models and stores labelled with their engine."""
    from aiplat_gen.platform.graph import model_id, platform_graph, store_id

    spec = profile.spec
    labels = {model_id(m.name): f"{m.name} ({m.engine})" for m in spec.models}
    labels.update({store_id(s.name): f"{s.name} ({s.engine})" for s in spec.vector_databases})
    labels.update({store_id(c.name): f"{c.name} ({c.engine})" for c in spec.caches})
    if spec.gateway is not None:
        labels[f"gateway:{spec.gateway.name}"] = f"gateway {spec.gateway.name}"
    return flowchart(platform_graph(profile), labels, all_flows)
