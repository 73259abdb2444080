"""RBAC: a ServiceAccount per workload, and Roles for the profile's groups.

- Every model (vLLM, Triton, KServe predictor) and every data store aiplat-gen runs gets its own
  ServiceAccount, named after the workload, with `automountServiceAccountToken: false`: none of
  them calls the Kubernetes API, so none holds a token (the pods set the same). A model reading
  an object store with IRSA or GKE Workload Identity gets its role annotation
  (`platform.cloud_credentials`). A CloudNativePG
  `Cluster` is the exception: the operator creates its ServiceAccount and Role, because its
  instance manager does call the API.
- For `spec.security.rbacGroups`: a Role `aiplat-deployer` or `aiplat-viewer` in each namespace a
  group is given, and a RoleBinding per group. Deployers manage Deployments, StatefulSets,
  Services, ConfigMaps, PersistentVolumeClaims, PodDisruptionBudgets, autoscalers (HPA, KEDA) and
  the platform's custom resources (InferenceServices, CloudNativePG Clusters, monitors and
  rules), delete pods (to restart them) and read logs; they only read NetworkPolicies and
  routes, and get nothing on Secrets, `pods/exec` or RBAC objects. Viewers read the same and the
  logs. No verb is a wildcard.
- Nothing is cluster-wide unless a group asks (`clusterWide: true`): then a ClusterRole
  `<platform>-<role>` with the same rules and a ClusterRoleBinding.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from aiplat_gen.platform import cloud_credentials
from aiplat_gen.profile.schema.security import RbacGroup
from aiplat_gen.render.components.base import RenderContext, Rendered, labels

COMPONENT = "rbac"
READ = ["get", "list", "watch"]
MANAGE = [*READ, "create", "update", "patch", "delete"]
GROUP_ANNOTATION = "ai.platform/group"

# (apiGroup, resources) a deployer manages; a viewer reads them.
MANAGED_RESOURCES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("", ("configmaps", "persistentvolumeclaims", "services")),
    ("apps", ("deployments", "deployments/scale", "statefulsets", "statefulsets/scale")),
    ("autoscaling", ("horizontalpodautoscalers",)),
    ("policy", ("poddisruptionbudgets",)),
    ("keda.sh", ("scaledobjects", "triggerauthentications")),
    ("serving.kserve.io", ("inferenceservices",)),
    ("postgresql.cnpg.io", ("clusters",)),
    ("monitoring.coreos.com", ("podmonitors", "prometheusrules", "servicemonitors")),
)
# Read by both roles.
READ_RESOURCES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("", ("endpoints", "events", "pods", "pods/log", "serviceaccounts")),
    ("apps", ("replicasets",)),
    ("networking.k8s.io", ("networkpolicies",)),
    ("gateway.networking.k8s.io", ("httproutes",)),
)


def render(ctx: RenderContext) -> Rendered:
    """ServiceAccounts of the workloads, then the groups' Roles and bindings."""
    objects: list[dict[str, Any]] = []
    account_annotations = {(m.name, m.namespace): cloud_credentials.account_annotations(m)
                           for m in ctx.profile.spec.models}
    for name, namespace in workload_accounts(ctx):
        objects += ctx.render("rbac/serviceaccount.yaml.j2", name=name, namespace=namespace,
                              labels=_labels(ctx, name),
                              annotations=account_annotations.get((name, namespace), {}))
    objects += _group_objects(ctx)
    return Rendered(objects=objects)


def workload_accounts(ctx: RenderContext) -> list[tuple[str, str]]:
    """(name, namespace) of every workload's own ServiceAccount."""
    spec = ctx.profile.spec
    accounts = [(m.name, m.namespace) for m in spec.models]
    for db in spec.vector_databases:
        if db.runs_in_cluster and not (db.engine == "pgvector" and
                                       db.pgvector_settings.operator == "cloudnative-pg"):
            accounts.append((db.name, db.namespace))
    accounts += [(c.name, c.namespace) for c in spec.caches]
    return accounts


def role_rules(role: str) -> list[dict[str, Any]]:
    """The rules of `deployer` or `viewer`."""
    managed_verbs = MANAGE if role == "deployer" else READ
    rules = [{"apiGroups": [group], "resources": list(resources), "verbs": list(managed_verbs)}
             for group, resources in MANAGED_RESOURCES]
    rules += [{"apiGroups": [group], "resources": list(resources), "verbs": list(READ)}
              for group, resources in READ_RESOURCES]
    if role == "deployer":
        rules.append({"apiGroups": [""], "resources": ["pods"], "verbs": ["delete"]})
    return rules


def binding_name(role: str, group: str) -> str:
    """A stable DNS name for the binding of a group (names may hold `:` or `/`)."""
    slug = re.sub(r"[^a-z0-9]+", "-", group.lower()).strip("-")[:40].strip("-") or "group"
    digest = hashlib.sha256(group.encode()).hexdigest()[:6]
    return f"aiplat-{role}-{slug}-{digest}"


def _labels(ctx: RenderContext, name: str) -> dict[str, str]:
    return labels(ctx.profile, name, COMPONENT)


def _group_objects(ctx: RenderContext) -> list[dict[str, Any]]:
    spec = ctx.profile.spec
    all_namespaces = [ns.name for ns in spec.namespaces]
    roles: dict[tuple[str, str], None] = {}
    bindings: list[dict[str, Any]] = []
    cluster_roles: dict[str, None] = {}
    for group in spec.security.rbac_groups:
        if group.cluster_wide:
            cluster_roles[group.role] = None
            bindings += _binding(ctx, group, None, f"{spec.platform.name}-{group.role}")
            continue
        for namespace in group.namespaces or all_namespaces:
            roles[(namespace, group.role)] = None
            bindings += _binding(ctx, group, namespace, f"aiplat-{group.role}")
    objects: list[dict[str, Any]] = []
    for namespace, role in roles:
        objects += ctx.render("rbac/role.yaml.j2", kind="Role", name=f"aiplat-{role}",
                              namespace=namespace, labels=_labels(ctx, f"aiplat-{role}"),
                              rules=role_rules(role))
    for role in cluster_roles:
        name = f"{spec.platform.name}-{role}"
        objects += ctx.render("rbac/role.yaml.j2", kind="ClusterRole", name=name, namespace=None,
                              labels=_labels(ctx, name), rules=role_rules(role))
    return objects + bindings


def _binding(ctx: RenderContext, group: RbacGroup, namespace: str | None,
             role_name: str) -> list[dict[str, Any]]:
    name = binding_name(group.role, group.name)
    kind = "RoleBinding" if namespace else "ClusterRoleBinding"
    return ctx.render(
        "rbac/rolebinding.yaml.j2", kind=kind, name=name, namespace=namespace,
        labels=_labels(ctx, name), annotations={GROUP_ANNOTATION: group.name},
        subjects=[{"kind": "Group", "name": group.name,
                   "apiGroup": "rbac.authorization.k8s.io"}],
        role_ref={"apiGroup": "rbac.authorization.k8s.io",
                  "kind": "Role" if namespace else "ClusterRole", "name": role_name})
