"""Profile model of what the cluster already has (`spec.clusterProvides`).

The rendered tree refers to things it does not create: the StorageClasses of its volumes, the
External Secrets store its `ExternalSecret`s read, the Karpenter node classes of its NodePools,
the TLS Secret of the gateway listener, and the controllers that act on its objects. Each of
them is rendered, installed by an operator Application (`spec.gitops.charts`, the GPU Operator),
or declared here as provided by the cluster; `validate` refuses a reference to anything else
(`checks.cluster_provides`), and `output/README.md` lists what each environment's cluster must
provide.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from aiplat_gen.profile.schema.data import StorageClassName
from aiplat_gen.profile.schema.types import DnsLabel, Strict

Controller = Literal[
    "karpenter", "kserve", "knative-serving", "kong", "ingress-nginx", "envoy-ai-gateway",
    "prometheus-adapter", "gpu-operator", "prometheus-operator", "keda", "external-secrets",
    "cloudnative-pg", "envoy-gateway",
]
"""Controllers the rendered platform can need (see `aiplat_gen.platform.facts.controllers`)."""


class ClusterProvides(Strict):
    """What the cluster already has: things the rendered tree refers to but neither renders nor
    installs. Every such reference must be declared here (lists replace across `extends`)."""

    storage_classes: list[StorageClassName] = Field(default_factory=list,
                                                    examples=[["gp3"]])
    """StorageClasses the cluster has, for the `storage.storageClass` of volumes.
    Models, vector databases and caches name them; a volume without a class gets the cluster's
    default class."""
    default_storage_class: StorageClassName | None = Field(default=None, examples=["gp3"])
    """The StorageClass the cluster marks default (annotation
    `storageclass.kubernetes.io/is-default-class: "true"`): a volume that names no
    `storageClass` gets it. Needed once such a volume is rendered."""
    namespaces: list[DnsLabel] = Field(default_factory=list, examples=[["observability"]])
    """Namespaces the cluster has that the tree puts objects in without creating them: the
    `spec.observability.namespace` of a Prometheus you run (not a namespace of
    `spec.namespaces`, nor kube-prometheus-stack's, which its Application creates)."""
    secret_stores: list[DnsLabel] = Field(default_factory=list, examples=[["vault"]])
    """External Secrets stores the cluster has, for `spec.security.secretStore.name`.
    Needed once any secret reference has `remote`. Their kind is that of the secret store: a
    namespaced `SecretStore` must exist in every namespace that holds a synced Secret."""
    node_classes: list[DnsLabel] = Field(default_factory=list, examples=[["gpu"]])
    """Karpenter node classes the cluster has, for the pools' `karpenter.nodeClassRef.name`.
    For AWS these are `EC2NodeClass` objects."""
    tls_secrets: list[DnsLabel] = Field(default_factory=list, examples=[["llm-example-com-tls"]])
    """TLS Secrets the cluster has, for `spec.gateway.tlsSecretName`.
    `kubernetes.io/tls` Secrets in the gateway namespace (NGINX: in the namespace of every
    routed model, since an Ingress reads Secrets of its own namespace only)."""
    controllers: list[Controller] = Field(default_factory=list,
                                          examples=[["karpenter", "kserve"]])
    """Controllers the cluster runs that no operator Application installs.
    `karpenter` (Karpenter NodePools), `kserve` (InferenceServices), `knative-serving` (KServe's
    Knative mode), `kong` (the Kong Ingress Controller, with the Gateway API CRDs),
    `ingress-nginx`, `envoy-ai-gateway` (the Envoy AI Gateway controller), `prometheus-adapter`
    (the custom metrics of `autoscaling.engine: hpa`); and the operators aiplat-gen otherwise
    installs, when their Application is turned off: `gpu-operator` (`spec.gpuOperator.enabled:
    false`), `prometheus-operator` (chart `kube-prometheus-stack`), `keda`, `external-secrets`,
    `cloudnative-pg`, `envoy-gateway` (`spec.gitops.charts.<chart>.enabled: false`). Declaring
    one an Application installs is an error: two installations fight over its CRDs."""
