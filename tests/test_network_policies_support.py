"""Support for the reachability tests (no tests here): a small NetworkPolicy evaluator.

It applies networking.k8s.io/v1 semantics to a set of endpoints (pods with a namespace, labels
and an IP, and bare addresses outside the cluster):

- a pod is isolated for a direction when any policy of its namespace selects it with that
  policy type; an isolated pod allows only what some selecting policy's rules allow (rules are
  unioned across policies);
- a connection needs the source's egress and the destination's ingress to allow it;
- a peer is a `podSelector` (same namespace), a `namespaceSelector` (pods of the selected
  namespaces, optionally narrowed by a `podSelector` in the same element) or an `ipBlock`
  (`cidr` minus `except`, matched against the endpoint's IP);
- a rule without `ports` allows every port; a port without `protocol` is TCP.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from aiplat_gen.checks.policy.engine import matches

NAMESPACE_LABEL = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class Endpoint:
    """A pod (namespace and labels set) or an address outside the cluster."""

    name: str
    ip: str
    namespace: str | None = None
    labels: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    rendered: bool = False
    """A pod of the rendered platform (not a party around it)."""

    @property
    def is_pod(self) -> bool:
        """True for pods."""
        return self.namespace is not None


@dataclass
class Evaluator:
    """Answers whether `source` may open a connection to `target` on a port."""

    policies: list[dict[str, Any]]
    namespace_labels: dict[str, dict[str, str]]

    def _selecting(self, pod: Endpoint, kind: str) -> list[dict[str, Any]]:
        found = []
        for policy in self.policies:
            meta, spec = policy["metadata"], policy["spec"]
            types = spec.get("policyTypes") or (["Ingress", "Egress"] if "egress" in spec
                                                else ["Ingress"])
            if meta["namespace"] == pod.namespace and kind in types and \
                    matches(spec.get("podSelector") or {}, pod.labels):
                found.append(policy)
        return found

    def _peer_matches(self, peer: dict[str, Any], other: Endpoint, policy_ns: str) -> bool:
        if "ipBlock" in peer:
            block = peer["ipBlock"]
            address = ipaddress.ip_address(other.ip)
            if address not in ipaddress.ip_network(block["cidr"]):
                return False
            return not any(address in ipaddress.ip_network(e) for e in block.get("except", []))
        if not other.is_pod:
            return False
        if "namespaceSelector" in peer:
            # The API server labels every namespace with its name (Kubernetes 1.22+).
            ns_labels = {**self.namespace_labels.get(str(other.namespace), {}),
                         NAMESPACE_LABEL: str(other.namespace)}
            if not matches(peer["namespaceSelector"], ns_labels):
                return False
        elif other.namespace != policy_ns:
            return False
        return "podSelector" not in peer or matches(peer["podSelector"], other.labels)

    @staticmethod
    def _port_matches(rule: dict[str, Any], port: int, protocol: str) -> bool:
        if "ports" not in rule:
            return True
        for entry in rule["ports"]:
            if entry.get("protocol", "TCP") != protocol:
                continue
            if "port" not in entry:
                return True
            end = entry.get("endPort", entry["port"])
            if entry["port"] <= port <= end:
                return True
        return False

    def _allows(self, policies: list[dict[str, Any]], key: str, peer_key: str, other: Endpoint,
                port: int, protocol: str) -> bool:
        for policy in policies:
            for rule in policy["spec"].get(key) or []:
                peers = rule.get(peer_key)
                peer_ok = peers is None or any(
                    self._peer_matches(p, other, policy["metadata"]["namespace"])
                    for p in peers)
                if peer_ok and self._port_matches(rule, port, protocol):
                    return True
        return False

    def allowed(self, source: Endpoint, target: Endpoint, port: int, protocol: str) -> bool:
        """Both the source's egress and the target's ingress allow the connection."""
        if source.is_pod:
            egress = self._selecting(source, "Egress")
            if egress and not self._allows(egress, "egress", "to", target, port, protocol):
                return False
        if target.is_pod:
            ingress = self._selecting(target, "Ingress")
            if ingress and not self._allows(ingress, "ingress", "from", source, port,
                                            protocol):
                return False
        return True


def workload_pods(objects: list[dict[str, Any]]) -> list[tuple[str, str, dict[str, str]]]:
    """(name, namespace, pod labels) of every workload in a render, as its pods will be
    labelled: pod templates (weights Jobs included), KServe predictors, and CloudNativePG
    instances (labelled `cnpg.io/cluster: <name>` by the operator)."""
    result = []
    for obj in objects:
        kind, meta, spec = obj["kind"], obj["metadata"], obj.get("spec") or {}
        if kind in ("Deployment", "StatefulSet", "Job"):
            labels = spec["template"]["metadata"]["labels"]
        elif kind == "InferenceService":
            labels = spec["predictor"]["labels"]
        elif kind == "Cluster" and obj["apiVersion"].startswith("postgresql.cnpg.io/"):
            labels = {"cnpg.io/cluster": meta["name"]}
        else:
            continue
        result.append((meta["name"], meta["namespace"], dict(labels)))
    return result
