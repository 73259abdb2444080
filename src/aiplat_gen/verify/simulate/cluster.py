"""What the simulated cluster itself provides, and only that.

- **Nodes**, `nodes` per pool, named `<pool>-<n>`, with the labels the pool's nodes carry
  (`scheduling.node_labels`), the pool's taints, and as allocatable the pool's CPU, memory and
  ephemeral storage,
  110 pods (the kubelet's default `maxPods`) and the GPU resource the GPU Operator's device
  plugin advertises there (`memory.device_for`: whole GPUs, MIG slices or time-sliced replicas).
  A Karpenter pool gets its `nodes` too: the most it may launch, the same count `plan` packs.
- **What the profile declares under `spec.clusterProvides`**: StorageClasses (no provisioner,
  `Immediate` binding: the simulation's volume provisioner makes a PersistentVolume for each
  claim of a declared class), the (Cluster)SecretStore External Secrets reads, Karpenter
  EC2NodeClasses and the gateway's TLS Secrets. Declared controllers (KServe, Karpenter) are not
  run: the objects they own are accepted but make no pods here.
- **The namespaces the operator Applications create** (`CreateNamespace=true` in
  `argocd/<env>/`), and the namespace ArgoCD runs in when the environment deploys with it.
"""

from __future__ import annotations

import base64
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from aiplat_gen.platform.memory import device_for
from aiplat_gen.platform.scheduling import node_labels
from aiplat_gen.profile.schema.cluster import NodePool
from aiplat_gen.profile.schema.profile import Profile

MAX_PODS = "110"
"""The kubelet's default `--max-pods`."""
NO_PROVISIONER = "kubernetes.io/no-provisioner"
NOT_READY_TAINT = "node.kubernetes.io/not-ready"


def node_name(pool: NodePool, index: int) -> str:
    """The name of a pool's n-th simulated node."""
    return f"{pool.name}-{index}"


def nodes(profile: Profile) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(Node object, its status) for every node of every pool."""
    strategy = profile.spec.gpu_operator.mig_strategy
    result = []
    for pool in profile.spec.node_pools:
        allocatable = {"cpu": pool.cpu, "memory": pool.memory,
                       "ephemeral-storage": pool.ephemeral_storage, "pods": MAX_PODS}
        device = device_for(pool, strategy)
        if device is not None:
            allocatable[device.resource] = str(device.per_node)
        for index in range(pool.nodes):
            name = node_name(pool, index)
            labels = {**node_labels(pool), "kubernetes.io/hostname": name,
                      "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}
            taints = [{k: v for k, v in (("key", t.key), ("value", t.value),
                                         ("effect", t.effect)) if v}
                      for t in pool.taints]
            node = {"apiVersion": "v1", "kind": "Node",
                    "metadata": {"name": name, "labels": labels},
                    "spec": {"taints": taints} if taints else {}}
            status = {"capacity": allocatable, "allocatable": allocatable,
                      "conditions": [{"type": "Ready", "status": "True",
                                      "reason": "KubeletReady",
                                      "message": "simulated by aiplat-gen"}],
                      "nodeInfo": {"kubeletVersion": "v1.35.4", "architecture": "amd64",
                                   "operatingSystem": "linux", "machineID": "", "systemUUID": "",
                                   "bootID": "", "kernelVersion": "", "osImage": "",
                                   "containerRuntimeVersion": "", "kubeProxyVersion": ""}}
            result.append((node, status))
    return result


def storage_class(name: str, default: bool = False) -> dict[str, Any]:
    """A declared StorageClass (the cluster's default one annotated so, which the
    DefaultStorageClass admission gives to claims that name none): volumes are made by the
    simulation, bound at once."""
    meta: dict[str, Any] = {"name": name}
    if default:
        meta["annotations"] = {"storageclass.kubernetes.io/is-default-class": "true"}
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": meta, "provisioner": NO_PROVISIONER,
            "volumeBindingMode": "Immediate", "reclaimPolicy": "Delete"}


def volume_for(claim: dict[str, Any]) -> dict[str, Any]:
    """A PersistentVolume that satisfies a claim (its class, size and access modes), as the
    class's provisioner would make it."""
    meta, spec = claim["metadata"], claim["spec"]
    return {"apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": f"pv-{meta['namespace']}-{meta['name']}"[:253]},
            "spec": {"capacity": {"storage": spec["resources"]["requests"]["storage"]},
                     "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
                     "storageClassName": spec["storageClassName"],
                     "persistentVolumeReclaimPolicy": "Delete",
                     "claimRef": {"namespace": meta["namespace"], "name": meta["name"]},
                     "hostPath": {"path": f"/var/lib/aiplat-sim/{meta['namespace']}/"
                                          f"{meta['name']}"}}}


def secret_store(kind: str, name: str, provider: str, namespace: str | None
                 ) -> dict[str, Any]:
    """A declared (Cluster)SecretStore with a well-formed provider section (the simulation
    never reaches the store)."""
    providers: dict[str, dict[str, Any]] = {
        "vault": {"vault": {"server": "https://vault.example", "path": "secret",
                            "version": "v2", "auth": {"kubernetes": {
                                "mountPath": "kubernetes", "role": "external-secrets"}}}},
        "aws": {"aws": {"service": "SecretsManager", "region": "eu-west-1"}},
        "gcp": {"gcpsm": {"projectID": "example"}},
        "azure": {"azurekv": {"vaultUrl": "https://example.vault.azure.net",
                              "authType": "WorkloadIdentity"}},
    }
    return {"apiVersion": "external-secrets.io/v1", "kind": kind,
            "metadata": {"name": name, "namespace": namespace} if namespace else {"name": name},
            "spec": {"provider": providers.get(provider, providers["vault"])}}


def node_class(name: str) -> dict[str, Any]:
    """A declared Karpenter EC2NodeClass (well-formed; no instance is ever launched)."""
    return {"apiVersion": "karpenter.k8s.aws/v1", "kind": "EC2NodeClass",
            "metadata": {"name": name},
            "spec": {"role": "KarpenterNodeRole-simulated",
                     "amiSelectorTerms": [{"alias": "al2023@latest"}],
                     "subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": "simulated"}}],
                     "securityGroupSelectorTerms": [
                         {"tags": {"karpenter.sh/discovery": "simulated"}}]}}


def tls_secret(name: str, namespace: str) -> dict[str, Any]:
    """A declared TLS Secret, with a real self-signed certificate (openssl) so that a
    controller reading it would find one."""
    with tempfile.TemporaryDirectory(prefix="aiplat-gen-tls-") as tmp:
        cert, key = Path(tmp) / "tls.crt", Path(tmp) / "tls.key"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                        "1", "-subj", f"/CN={name}", "-keyout", str(key), "-out", str(cert)],
                       capture_output=True, check=True, timeout=60)
        data = {"tls.crt": cert.read_bytes(), "tls.key": key.read_bytes()}
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": name, "namespace": namespace},
            "data": {k: base64.b64encode(v).decode() for k, v in data.items()}}


def operator_namespaces(applications: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Namespaces ArgoCD creates for the Applications that ask it to
    (`CreateNamespace=true`), with their `managedNamespaceMetadata`."""
    found: dict[str, dict[str, Any]] = {}
    for app in applications:
        if app.get("kind") != "Application":
            continue
        spec = app.get("spec", {})
        policy = spec.get("syncPolicy", {})
        namespace = spec.get("destination", {}).get("namespace")
        if namespace and "CreateNamespace=true" in policy.get("syncOptions", []):
            managed = policy.get("managedNamespaceMetadata", {})
            meta = {"name": namespace, **{k: managed[k] for k in ("labels", "annotations")
                                          if managed.get(k)}}
            found[namespace] = {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}
    return [found[n] for n in sorted(found)]
