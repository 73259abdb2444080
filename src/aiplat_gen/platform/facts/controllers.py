"""The controllers a rendered platform can need, what each brings, and what installs it.

A controller either comes with an operator chart aiplat-gen deploys as an ArgoCD Application
(`chart`; the charts are in `platform.facts.charts`) or must already run in the cluster and be
declared under `spec.clusterProvides.controllers` (`chart` is None). `groups` are the API groups
of the custom resources its installation brings (what a test cluster needs to accept the
objects); a group may come with several controllers (Gateway API).

Sources: Karpenter "Getting Started" (the chart installs the `karpenter.sh` and
`karpenter.k8s.aws` CRDs); KServe installation (CRDs, controller and the ClusterServingRuntimes
of the `huggingface` and `triton` model formats), whose Knative mode needs Knative Serving;
Kong Ingress Controller README (the Gateway API CRDs are installed before the controller);
Envoy Gateway "Install with Helm" (the chart applies the Gateway API and Envoy Gateway CRDs);
Envoy AI Gateway installation (its own chart and CRDs, on top of Envoy Gateway);
prometheus-adapter (serves `custom.metrics.k8s.io` through an APIService, no CRD).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

GATEWAY_API = "gateway.networking.k8s.io"



@dataclass(frozen=True)
class ControllerInfo:
    """One controller: its name for people, what it serves, and how it gets into a cluster."""

    title: str
    """The product name (`Karpenter`)."""
    serves: str
    """What the rendered tree needs it for."""
    groups: tuple[str, ...]
    """API groups of the custom resources its installation brings."""
    chart: str | None
    """The operator chart aiplat-gen installs it with; None: the cluster must run it."""


CONTROLLERS: Mapping[str, ControllerInfo] = MappingProxyType({
    "karpenter": ControllerInfo(
        "Karpenter", "the NodePools of `provisioner: karpenter` pools",
        ("karpenter.sh", "karpenter.k8s.aws"), None),
    "kserve": ControllerInfo(
        "KServe", "the InferenceServices of `engine: kserve` models (with its Hugging Face and "
        "Triton ClusterServingRuntimes)", ("serving.kserve.io",), None),
    "knative-serving": ControllerInfo(
        "Knative Serving", "KServe models with `deploymentMode: Knative`",
        ("serving.knative.dev",), None),
    "kong": ControllerInfo(
        "Kong Ingress Controller", "the Gateway, HTTPRoutes and KongPlugins of the `kong` "
        "gateway (with the Gateway API CRDs, which its chart does not install)",
        ("configuration.konghq.com", GATEWAY_API), None),
    "ingress-nginx": ControllerInfo(
        "ingress-nginx", "the Ingresses of the `nginx` gateway (IngressClass `nginx`)", (), None),
    "envoy-ai-gateway": ControllerInfo(
        "Envoy AI Gateway", "the AIGatewayRoutes and AIServiceBackends of the "
        "`envoy-ai-gateway` gateway", ("aigateway.envoyproxy.io",), None),
    "prometheus-adapter": ControllerInfo(
        "prometheus-adapter", "the custom metrics of `autoscaling.engine: hpa` models (with the "
        "rules of `helm/prometheus-adapter/values.yaml`)", (), None),
    "gpu-operator": ControllerInfo(
        "NVIDIA GPU Operator", "the driver, device plugin and DCGM exporter of the GPU pools",
        ("nvidia.com",), "gpu-operator"),
    "prometheus-operator": ControllerInfo(
        "Prometheus Operator", "the ServiceMonitors, PodMonitors and PrometheusRules",
        ("monitoring.coreos.com",), "kube-prometheus-stack"),
    "keda": ControllerInfo(
        "KEDA", "the ScaledObjects of `autoscaling.engine: keda` models", ("keda.sh",), "keda"),
    "external-secrets": ControllerInfo(
        "External Secrets Operator", "the ExternalSecrets of secret references with `remote`",
        ("external-secrets.io",), "external-secrets"),
    "cloudnative-pg": ControllerInfo(
        "CloudNativePG", "the PostgreSQL Clusters of `pgvector.operator: cloudnative-pg`",
        ("postgresql.cnpg.io",), "cloudnative-pg"),
    "envoy-gateway": ControllerInfo(
        "Envoy Gateway", "the Gateway and policies of the `gateway-api` and `envoy-ai-gateway` "
        "gateways (its chart brings the Gateway API CRDs)", ("gateway.envoyproxy.io", GATEWAY_API),
        "envoy-gateway"),
})
"""Every controller `spec.clusterProvides.controllers` can name, by that name."""
