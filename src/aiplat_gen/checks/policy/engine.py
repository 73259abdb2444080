"""Run the policy rules over a set of rendered (or kustomize-built) objects.

A finding on an object that carries an exception for its rule (the annotations of
`policy.exceptions`, or a scanner's own suppression annotation for one of the rule's checks) is
reported as suppressed, with the reason, instead of failing the check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from aiplat_gen.checks.policy.exceptions import (
    CHECKOV_SKIP,
    EXCEPTION_ANNOTATION,
    KUBE_LINTER_IGNORE,
    POLARIS,
)
from aiplat_gen.checks.policy.rules import (
    POD_CHECKS,
    RULES_BY_ID,
    Obj,
    PodTemplate,
    Rule,
    pod_template,
)


@dataclass(frozen=True)
class Finding:
    """A rule an object does not meet."""

    rule: str
    kind: str
    namespace: str
    name: str
    message: str
    suppressed: str | None = None
    """The declared reason, when an exception covers it."""
    file: str = ""
    line: int = 0
    """Where the object is defined in the output (when known)."""

    @property
    def label(self) -> str:
        """`Kind/namespace/name`."""
        return "/".join(p for p in (self.kind, self.namespace, self.name) if p)


Where = Callable[[Obj], tuple[str, int]]


def evaluate(objects: Iterable[Any], where: Where | None = None) -> list[Finding]:
    """Every finding of every rule, in object order; `where` locates an object's file and
    line."""
    objs = [o for o in objects if isinstance(o, dict)]
    pods = [(o, p) for o in objs if (p := pod_template(o)) is not None]
    policies = [o for o in objs if o.get("kind") == "NetworkPolicy"]
    findings: list[Finding] = []
    for obj, pod in pods:
        for rule_id, check in POD_CHECKS.items():
            findings += [_finding(rule_id, obj, m) for m in check(pod)]
        if not any(_selects(p, obj, pod) for p in policies):
            findings.append(_finding("network-policy", obj,
                                     "no NetworkPolicy selects the pods"))
    headless = {(str(_meta(o).get("namespace", "")), _meta(o).get("name")) for o in objs
                if o.get("kind") == "Service" and (o.get("spec") or {}).get("clusterIP") == "None"}
    for obj in objs:
        if obj.get("kind") == "PodDisruptionBudget":
            findings += [_finding("pdb", obj, m) for m in _pdb(obj, pods)]
        if obj.get("kind") == "StatefulSet":
            service = (obj.get("spec") or {}).get("serviceName")
            if (str(_meta(obj).get("namespace", "")), service) not in headless:
                findings.append(_finding("statefulset-service", obj, f"serviceName {service!r} "
                                         "is not a headless Service (clusterIP: None) of its "
                                         "namespace"))
    if where is None:
        return findings
    located = []
    for finding in findings:
        obj = next(o for o in objs if _meta(o).get("name") == finding.name and
                   o.get("kind") == finding.kind and
                   str(_meta(o).get("namespace", "")) == finding.namespace)
        file, line = where(obj)
        located.append(replace(finding, file=file, line=line))
    return located


def _meta(obj: Obj) -> dict[str, Any]:
    return obj.get("metadata") or {}


def _finding(rule_id: str, obj: Obj, message: str) -> Finding:
    meta = _meta(obj)
    return Finding(rule_id, str(obj.get("kind", "")), str(meta.get("namespace", "")),
                   str(meta.get("name", "")), message,
                   suppression(RULES_BY_ID[rule_id], meta.get("annotations") or {}))


def suppression(rule: Rule, annotations: dict[str, str]) -> str | None:
    """The reason an object is exempt from a rule, from any scanner's annotation."""
    if f"{EXCEPTION_ANNOTATION}{rule.id}" in annotations:
        return annotations[f"{EXCEPTION_ANNOTATION}{rule.id}"]
    for key, value in annotations.items():
        if CHECKOV_SKIP in key and value.split("=", 1)[0] in rule.checkov:
            return value.split("=", 1)[1] if "=" in value else "no reason given"
        if key.startswith(KUBE_LINTER_IGNORE) and key[len(KUBE_LINTER_IGNORE):] in \
                rule.kube_linter:
            return value or "no reason given"
        if key.startswith(POLARIS) and key.endswith("-exempt") and value == "true" and \
                key[len(POLARIS):-len("-exempt")] in rule.polaris:
            return "Polaris exemption"
    return None


def matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A Kubernetes label selector (matchLabels and matchExpressions) against labels."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _selects(policy: Obj, obj: Obj, pod: PodTemplate) -> bool:
    same_ns = _meta(policy).get("namespace") == _meta(obj).get("namespace")
    return same_ns and matches((policy.get("spec") or {}).get("podSelector") or {}, pod.labels)


def _pdb(pdb: Obj, pods: list[tuple[Obj, PodTemplate]]) -> list[str]:
    spec = pdb.get("spec") or {}
    selected = [o for o, p in pods if _meta(o).get("namespace") == _meta(pdb).get("namespace")
                and matches(spec.get("selector") or {}, p.labels)]
    problems = []
    if not selected:
        problems.append("the selector matches no workload")
    if spec.get("maxUnavailable") in (0, "0", "0%") or spec.get("minAvailable") == "100%":
        problems.append("it allows no disruption: node drains would block")
    for obj in selected:
        replicas = (obj.get("spec") or {}).get("replicas")
        if isinstance(spec.get("minAvailable"), int) and isinstance(replicas, int) and \
                spec["minAvailable"] >= replicas:
            problems.append(f"minAvailable {spec['minAvailable']} >= replicas {replicas} of "
                            f"{_meta(obj).get('name')}: node drains would block")
    return problems
