"""The platform profile: the root model and its `spec`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from aiplat_gen.profile.schema.cluster import GpuOperator, Namespace, NodePool, PriorityClass
from aiplat_gen.profile.schema.cluster_provides import ClusterProvides
from aiplat_gen.profile.schema.data import Cache, VectorDatabase
from aiplat_gen.profile.schema.gateway import Gateway
from aiplat_gen.profile.schema.gitops import GitOps
from aiplat_gen.profile.schema.observability import Observability
from aiplat_gen.profile.schema.security import Security
from aiplat_gen.profile.schema.serving import Model
from aiplat_gen.profile.schema.types import DnsLabel, LabelKey, LabelValue, Strict

API_VERSION = "aiplat.dev/v1alpha1"
KIND = "PlatformProfile"
KUBERNETES_VERSION_PATTERN = r"^1\.(2[5-9]|3[0-7])(\.[0-9]+)?$"


class Metadata(Strict):
    """Profile metadata; `name` must match the file name (`profiles/<name>.yaml`)."""

    name: DnsLabel
    """The profile (and environment) name."""
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)
    """Labels for your own bookkeeping; not rendered."""


class Platform(Strict):
    """Names used across the platform's objects."""

    name: DnsLabel = Field(examples=["acme-ai"])
    """The platform name: the `app.kubernetes.io/part-of` label on every object."""
    version: str = Field(pattern=r"^[A-Za-z0-9][-A-Za-z0-9_.]{0,62}$", examples=["2026.11.1"])
    """The platform release: `app.kubernetes.io/version` on objects without an app version."""


class Spec(Strict):
    """Everything the platform consists of."""

    platform: Platform
    """Platform name and release, used in every object's labels."""
    kubernetes_version: str = Field(pattern=KUBERNETES_VERSION_PATTERN, examples=["1.33"])
    """Target Kubernetes minor version (1.25-1.37): the schemas the output is checked against."""
    node_pools: list[NodePool] = Field(min_length=1)
    """GPU and CPU node pools."""
    gpu_operator: GpuOperator = GpuOperator()
    """NVIDIA GPU Operator settings."""
    namespaces: list[Namespace] = Field(default_factory=list)
    """Namespaces the platform owns."""
    priority_classes: list[PriorityClass] = Field(default_factory=list)
    """Priority classes; one default for inference, one for batch."""
    models: list[Model] = Field(default_factory=list)
    """Models served with vLLM, Triton or KServe."""
    vector_databases: list[VectorDatabase] = Field(default_factory=list)
    """Vector databases: Weaviate, PostgreSQL with pgvector, or managed (Pinecone)."""
    caches: list[Cache] = Field(default_factory=list)
    """Caches next to the models (Redis as the semantic cache)."""
    gateway: Gateway | None = None
    """The AI gateway: hostname, TLS, API keys, rate limits and one route per exposed model."""
    security: Security = Security()
    """Security settings: the secret store, network policies, RBAC groups, policy exceptions."""
    observability: Observability | None = None
    """Prometheus, alerts, the Grafana dashboard and tracing of the models (none when omitted)."""
    gitops: GitOps | None = None
    """Where the rendered tree lives in Git and how ArgoCD deploys it (`output/argocd/`)."""
    cluster_provides: ClusterProvides = ClusterProvides()
    """What the cluster already has, which the tree refers to but does not create.
    Storage classes, secret stores, Karpenter node classes, TLS Secrets and controllers."""


class Profile(Strict):
    """A platform profile (`apiVersion: aiplat.dev/v1alpha1`, `kind: PlatformProfile`)."""

    api_version: Literal["aiplat.dev/v1alpha1"]
    """Always `aiplat.dev/v1alpha1`."""
    kind: Literal["PlatformProfile"]
    """Always `PlatformProfile`."""
    metadata: Metadata
    """Name (= file name) and labels."""
    spec: Spec
    """The platform."""
