"""What a model's object store credentials (`source.credentials`) need in the cluster: the
ServiceAccount annotation, the server's environment, and where the pod must connect.

Sources:
- Triton reads `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
  `AWS_DEFAULT_REGION` and `AWS_PROFILE`; without keys it builds its S3 client from the AWS
  SDK's default credential chain, path-style (`triton-inference-server/core`,
  `src/filesystem/implementations/s3.h`). `AWS_REGION` is set too, for the SDK's own lookup.
- IRSA: the ServiceAccount annotation `eks.amazonaws.com/role-arn`; EKS's pod identity webhook
  then injects `AWS_ROLE_ARN` and `AWS_WEB_IDENTITY_TOKEN_FILE` and a projected token volume
  (its own volume: `automountServiceAccountToken: false` stays); the SDK calls STS
  `AssumeRoleWithWebIdentity` over HTTPS (AWS EKS User Guide, "IAM roles for service
  accounts"; `aws/amazon-eks-pod-identity-webhook` README).
- EKS Pod Identity: the association is made with the EKS API, outside Kubernetes; the pod asks
  the node's Pod Identity Agent at 169.254.170.23 (IPv4, port 80) for credentials (AWS EKS User
  Guide, "Set up the Amazon EKS Pod Identity Agent", Considerations).
- GKE Workload Identity: the ServiceAccount annotation `iam.gke.io/gcp-service-account`; the
  client libraries get tokens from the GKE metadata server at 169.254.169.254:80 (GKE docs,
  "Authenticate to Google Cloud APIs from GKE workloads").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiplat_gen.profile.schema.serving import Model, ObjectStoreCredentials

IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
GKE_ANNOTATION = "iam.gke.io/gcp-service-account"
POD_IDENTITY_AGENT = "169.254.170.23/32"
POD_IDENTITY_PORT = 80
GKE_METADATA_SERVER = "169.254.169.254/32"
GKE_METADATA_PORT = 80


@dataclass(frozen=True)
class LinkLocal:
    """A node-local credentials endpoint the pod must reach (an ipBlock, below the
    internet rule's `except`)."""

    name: str
    cidr: str
    port: int


def credentials(model: Model) -> ObjectStoreCredentials | None:
    """The model's object store credentials, if it reads an object store."""
    if not model.source.uri.startswith(("s3://", "gs://")):
        return None
    return model.source.credentials


def account_annotations(model: Model) -> dict[str, str]:
    """Annotations of the model's ServiceAccount."""
    creds = credentials(model)
    if creds is None:
        return {}
    if creds.method == "irsa" and creds.role_arn:
        return {IRSA_ANNOTATION: creds.role_arn}
    if creds.method == "gke-workload-identity" and creds.gcp_service_account:
        return {GKE_ANNOTATION: creds.gcp_service_account}
    return {}


def server_env(model: Model) -> list[dict[str, Any]]:
    """Environment of the server container: region, and the keys by reference."""
    creds = credentials(model)
    if creds is None:
        return []
    env: list[dict[str, Any]] = []
    if creds.region:
        env += [{"name": "AWS_REGION", "value": creds.region},
                {"name": "AWS_DEFAULT_REGION", "value": creds.region}]
    for name, ref in (("AWS_ACCESS_KEY_ID", creds.access_key_id),
                      ("AWS_SECRET_ACCESS_KEY", creds.secret_access_key)):
        if ref is not None:
            env.append({"name": name,
                        "valueFrom": {"secretKeyRef": {"name": ref.name, "key": ref.key}}})
    return env


def https_hosts(model: Model) -> list[str]:
    """Outside hosts the server reaches over HTTPS for its repository and credentials."""
    creds = credentials(model)
    if creds is None:
        return []
    if creds.method == "gke-workload-identity":
        return ["storage.googleapis.com", "oauth2.googleapis.com"]
    region = creds.region
    if region is None:
        return []
    hosts = [f"s3.{region}.amazonaws.com"]
    if creds.method == "irsa":
        hosts += [f"sts.{region}.amazonaws.com", "sts.amazonaws.com"]
    return hosts


def link_local(model: Model) -> LinkLocal | None:
    """The node-local credentials endpoint the pod asks, if its method has one."""
    creds = credentials(model)
    if creds is None:
        return None
    if creds.method == "eks-pod-identity":
        return LinkLocal("eks-pod-identity-agent", POD_IDENTITY_AGENT, POD_IDENTITY_PORT)
    if creds.method == "gke-workload-identity":
        return LinkLocal("gke-metadata-server", GKE_METADATA_SERVER, GKE_METADATA_PORT)
    return None
