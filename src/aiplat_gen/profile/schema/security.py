"""Profile model of the platform's security settings (`spec.security`): where credentials come
from, the network policies, the RBAC groups, and the declared exceptions to the policy rules."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from aiplat_gen.profile.schema.data import Hostname
from aiplat_gen.profile.schema.secrets import SecretStore
from aiplat_gen.profile.schema.types import DnsLabel, LabelKey, LabelValue, Strict

RuleId = Literal[
    "privileged", "privilege-escalation", "run-as-non-root", "high-uid", "capabilities",
    "seccomp", "host-namespaces", "host-path", "read-only-root-fs", "probes", "cpu-requests",
    "cpu-limits", "memory-requests", "memory-limits", "image-tag", "image-digest",
    "image-pull-policy", "network-policy", "service-account-token", "service-account",
    "secrets-in-env", "pdb", "gpu-limits", "ephemeral-storage", "statefulset-service",
]
"""Ids of the rules of `aiplat-gen check --policy` (see `aiplat_gen.checks.policy.rules`)."""

Cidr = Annotated[str, StringConstraints(
    pattern=r"^([0-9]{1,3}\.){3}[0-9]{1,3}/([0-9]|[12][0-9]|3[0-2])$"),
    Field(examples=["10.0.0.0/16"])]
GroupName = Annotated[str, StringConstraints(min_length=1, max_length=253, pattern=r"^[^\s]+$"),
                      Field(examples=["acme:ml-platform"])]
Reason = Annotated[str, StringConstraints(min_length=10, max_length=200, pattern=r"^[^=\n]+$"),
                   Field(examples=["images are pinned to release tags and scanned in CI"])]


class PrometheusPods(Strict):
    """The Prometheus pods that scrape the platform: the network policies let them, and only
    them, reach the metrics ports."""

    namespace: DnsLabel | None = Field(default=None, examples=["monitoring"])
    """Their namespace; default: `spec.observability.namespace`, else `monitoring`."""
    pod_labels: dict[LabelKey, LabelValue] = Field(
        default_factory=lambda: {"app.kubernetes.io/name": "prometheus"})
    """Labels of the Prometheus pods (the Prometheus operator sets
    `app.kubernetes.io/name: prometheus`)."""


class NetworkPolicies(Strict):
    """Network policies derived from the platform graph (see `components.network_policies`)."""

    enabled: bool = True
    """Render the default-deny and per-workload NetworkPolicies."""
    model_source_hosts: list[Hostname] = Field(
        default_factory=list, examples=[["huggingface.co", "cdn-lfs.huggingface.co"]])
    """Hosts the model weights are downloaded from (Hugging Face, its CDN, the object store
    endpoint Triton reads). Naming any opens HTTPS egress for the pods of models that download
    at start; without, those pods have no internet egress and the download fails."""
    api_server_cidrs: list[Cidr] = Field(default_factory=list, examples=[["10.0.0.0/24"]])
    """Addresses of the Kubernetes API server endpoints, for the pods that need the API
    (CloudNativePG instances). NetworkPolicy sees the endpoint address, not the Service IP."""
    api_server_port: int = Field(default=443, ge=1, le=65535)
    """Port of the API server endpoints (443 on managed clusters, 6443 on kubeadm)."""
    prometheus: PrometheusPods = PrometheusPods()
    """The Prometheus pods allowed to scrape."""


class RbacGroup(Strict):
    """A group of your identity provider and what it may do in the platform's namespaces."""

    name: GroupName
    """The group name as the API server sees it (OIDC `groups` claim, with any prefix)."""
    role: Literal["deployer", "viewer"] = Field(examples=["deployer"])
    """`deployer`: manage workloads, Services, ConfigMaps, autoscalers and the platform's custom
    resources, read logs; never Secrets. `viewer`: read the same, plus logs; never Secrets."""
    namespaces: list[DnsLabel] = Field(default_factory=list, examples=[["llm-serving"]])
    """Namespaces of `spec.namespaces` the role applies in; empty: all of them."""
    cluster_wide: bool = False
    """Bind the role in every namespace of the cluster (a ClusterRoleBinding) instead."""


class PolicyException(Strict):
    """A policy rule the platform deliberately does not meet, with the reason. It is rendered as
    the annotations Checkov, kube-linter and Polaris understand, on the named workloads."""

    name: DnsLabel = Field(examples=["cpu-limits-all"])
    """Name of the exception (environments merge the list by name)."""
    rule: RuleId = Field(examples=["cpu-limits"])
    """Rule id of `aiplat-gen check --policy`."""
    reason: Reason
    """Why (10-200 characters, no `=`: Checkov splits its annotation on it)."""
    workloads: list[DnsLabel] = Field(default_factory=list, examples=[["llama-8b"]])
    """Workload names (Deployment, StatefulSet, InferenceService) it applies to; empty: all."""


class Security(Strict):
    """Security settings of the whole platform."""

    secret_store: SecretStore | None = None
    """The External Secrets store every secret reference with `remote` is synced from. Without
    it, every secret reference must name a Secret that already exists."""
    network_policies: NetworkPolicies = NetworkPolicies()
    """Default-deny network policies and the allowed flows of the platform graph."""
    rbac_groups: list[RbacGroup] = Field(default_factory=list)
    """Groups granted Roles in the platform's namespaces (nothing cluster-wide unless asked)."""
    policy_exceptions: list[PolicyException] = Field(default_factory=list)
    """Policy rules deliberately not met, with their reasons."""
