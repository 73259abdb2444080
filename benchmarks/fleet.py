"""Synthetic fleet profiles for the benchmark: N models over several namespaces and node pools,
with the data layer, autoscaling, monitoring, network policies and three environments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

NAMESPACES = 4
ARCHS = [("llama-3.1-8b", "meta-llama/Llama-3.1-8B-Instruct", 1, "l4"),
         ("qwen2.5-7b", "Qwen/Qwen2.5-7B-Instruct", 1, "l4"),
         ("llama-3.1-70b", "meta-llama/Llama-3.1-70B-Instruct", 4, "h100")]
SHA = "0" * 63 + "1"
REV = "0123456789abcdef0123456789abcdef01234567"


def _model(index: int) -> dict[str, Any]:
    arch, repo, gpus, pool = ARCHS[index % len(ARCHS)]
    return {
        "name": f"m{index:03d}-{arch.replace('.', '-')}",
        "engine": "vllm",
        "namespace": f"serving-{index % NAMESPACES}",
        "nodePool": f"gpu-{pool}",
        "source": {"uri": f"hf://{repo}", "revision": REV, "sha256": SHA},
        "architecture": arch,
        "image": "vllm/vllm-openai:v0.11.0",
        "gpus": gpus,
        "maxModelLen": 8192,
        "gpuMemoryUtilization": 0.9,
        "dtype": "bfloat16",
        "replicas": 1,
        "storage": {"size": "200Gi" if gpus > 1 else "40Gi", "storageClass": "gp3", "perReplica": True},
        "resources": {"cpu": "8", "memory": "64Gi", "shmSize": "8Gi"},
        "hfToken": {"name": "hf-token", "key": "token",
                    "remote": {"key": "ai/hf", "property": "token"}},
    }


def base_profile(models: int) -> dict[str, Any]:
    """The root profile of a fleet with `models` models."""
    gpus_per_ns = sum(ARCHS[i % len(ARCHS)][2] * 4 for i in range(models)) // NAMESPACES + 16
    return {
        "apiVersion": "aiplat.dev/v1alpha1",
        "kind": "PlatformProfile",
        "metadata": {"name": "base"},
        "spec": {
            "platform": {"name": "fleet", "version": "1.0.0"},
            "kubernetesVersion": "1.33",
            "nodePools": [
                {"name": "cpu", "nodes": 10, "cpu": "32", "memory": "128Gi"},
                {"name": "gpu-l4", "gpu": {"product": "l4", "count": 8}, "nodes": models,
                 "cpu": "192", "memory": "768Gi",
                 "taints": [{"key": "nvidia.com/gpu", "value": "present",
                             "effect": "NoSchedule"}]},
                {"name": "gpu-h100", "gpu": {"product": "h100-80gb", "count": 8},
                 "nodes": models, "cpu": "192", "memory": "1900Gi",
                 "taints": [{"key": "nvidia.com/gpu", "value": "present",
                             "effect": "NoSchedule"}]},
            ],
            "namespaces": [{"name": f"serving-{n}", "purpose": "inference",
                            "quota": {"gpus": gpus_per_ns}} for n in range(NAMESPACES)],
            "priorityClasses": [
                {"name": "online", "value": 10000, "defaultFor": "inference"},
                {"name": "batch", "value": 100, "defaultFor": "batch"},
            ],
            "security": {"secretStore": {"kind": "ClusterSecretStore", "name": "vault",
                                         "provider": "vault"}},
            "models": [_model(i) for i in range(models)],
        },
    }


def env_profile(name: str, models: int, replicas: int) -> dict[str, Any]:
    """An environment overlay that changes replicas of every other model."""
    return {
        "apiVersion": "aiplat.dev/v1alpha1",
        "kind": "PlatformProfile",
        "metadata": {"name": name},
        "extends": "base",
        "spec": {"models": [{"name": _model(i)["name"], "replicas": replicas}
                            for i in range(0, models, 2)]},
    }


def write_fleet(folder: Path, models: int) -> Path:
    """Write base, dev, staging and prod profiles for a fleet; return the profiles folder."""
    profiles = folder / "profiles"
    profiles.mkdir(parents=True, exist_ok=True)
    docs = {"base": base_profile(models), "dev": env_profile("dev", models, 1),
            "staging": env_profile("staging", models, 2), "prod": env_profile("prod", models, 3)}
    for name, doc in docs.items():
        (profiles / f"{name}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return profiles
