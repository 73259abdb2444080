"""Synthetic fleet profiles for the benchmark.

A fleet is the example platform (profiles/base.yaml: node pools, GPU Operator, data layer,
observability, network policies, gateway, GitOps) with its models replaced by N synthetic vLLM
models spread over four namespaces and two GPU pools, each autoscaled by KEDA and routed by the
gateway, plus three environments (dev, staging, prod) that change autoscaling bounds of every
other model.
"""

from __future__ import annotations

import compileall
import copy
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

import aiplat_gen

REPO = Path(__file__).resolve().parents[1]
NAMESPACES = 4
# (architecture, Hugging Face repo, GPUs per replica, node pool)
ARCHS = [("llama-3.1-8b", "meta-llama/Llama-3.1-8B-Instruct", 1, "gpu-l4"),
         ("qwen2.5-7b", "Qwen/Qwen2.5-7B-Instruct", 1, "gpu-l4"),
         ("llama-3.1-70b", "meta-llama/Llama-3.1-70B-Instruct", 4, "gpu-h100")]
REVISION = "0123456789abcdef0123456789abcdef01234567"
SHA256 = "5" * 64


def model_name(index: int) -> str:
    """The name of the index-th synthetic model."""
    arch = ARCHS[index % len(ARCHS)][0].replace(".", "-")
    return f"m{index:03d}-{arch}"


def _model(index: int) -> dict[str, Any]:
    arch, repo, gpus, pool = ARCHS[index % len(ARCHS)]
    return {
        "name": model_name(index),
        "engine": "vllm",
        "namespace": f"serving-{index % NAMESPACES}",
        "nodePool": pool,
        "source": {"uri": f"hf://{repo}", "revision": REVISION, "sha256": SHA256},
        "architecture": arch,
        "image": "vllm/vllm-openai:v0.11.0",
        "gpus": gpus,
        "maxModelLen": 8192,
        "gpuMemoryUtilization": 0.9,
        "dtype": "bfloat16",
        "storage": {"size": "200Gi" if gpus > 1 else "40Gi", "storageClass": "gp3",
                    "perReplica": True},
        "resources": {"cpu": "8", "memory": "64Gi", "shmSize": "8Gi"},
        "autoscaling": {"engine": "keda", "minReplicas": 1, "maxReplicas": 3,
                        "targets": {"queueDepth": 8, "kvCacheUsage": 0.85}},
        "hfToken": {"name": "hf-token", "key": "token",
                    "remote": {"key": "ai-platform/huggingface", "property": "token"}},
    }


def base_profile(models: int) -> dict[str, Any]:
    """The root profile of a fleet with `models` models."""
    doc: dict[str, Any] = yaml.safe_load((REPO / "profiles" / "base.yaml").read_text("utf-8"))
    spec = doc["spec"]
    gpus = sum(ARCHS[i % len(ARCHS)][2] * 3 for i in range(models))
    for pool in spec["nodePools"]:
        if pool["name"] in ("gpu-l4", "gpu-h100"):
            pool["nodes"] = max(pool.get("nodes", 1), gpus // 4 + 1)
    template = next(ns for ns in spec["namespaces"] if ns["name"] == "llm-serving")
    for n in range(NAMESPACES):
        ns = copy.deepcopy(template)
        ns["name"] = f"serving-{n}"
        # each model: up to 3 replicas of 8 CPU and 64Gi
        share = -(-models // NAMESPACES)
        ns["quota"] = {"gpus": gpus // NAMESPACES + 8, "cpu": str(share * 3 * 8 + 64),
                       "memory": f"{share * 3 * 64 + 1024}Gi", "pods": share * 3 + 100}
        spec["namespaces"].append(ns)
    spec["models"] = [_model(i) for i in range(models)]
    spec["gateway"]["routes"] = [{"model": model_name(i)} for i in range(models)]
    return doc


def env_profile(name: str, models: int, max_replicas: int) -> dict[str, Any]:
    """An environment that changes the autoscaling bounds of every other model."""
    return {
        "apiVersion": "aiplat.dev/v1alpha1",
        "kind": "PlatformProfile",
        "metadata": {"name": name},
        "extends": "base",
        "spec": {"models": [{"name": model_name(i), "autoscaling": {"maxReplicas": max_replicas}}
                            for i in range(0, models, 2)]},
    }


def write_fleet(folder: Path, models: int) -> Path:
    """Write base, dev, staging and prod profiles for a fleet; return the profiles folder."""
    profiles = folder / "profiles"
    profiles.mkdir(parents=True, exist_ok=True)
    docs = {"base": base_profile(models), "dev": env_profile("dev", models, 1),
            "staging": env_profile("staging", models, 2), "prod": env_profile("prod", models, 3)}
    for name, doc in docs.items():
        (profiles / f"{name}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), "utf-8")
    return profiles


def installed_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for timed `aiplat-gen` processes: like an installed package, which pip
    byte-compiles at install time, aiplat-gen's modules load from bytecode. The package is
    compiled once here, and PYTHONDONTWRITEBYTECODE (set in some CI and sandbox shells, which
    makes every run compile every module again) is dropped."""
    compileall.compile_dir(str(Path(aiplat_gen.__file__).parent), quiet=1)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, **(extra or {})}


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, peak MiB, output) of one whole `aiplat-gen` process, the peak memory from
    the child's rusage (wait4); it must exit 0."""

    exe = Path(sys.executable).with_name("aiplat-gen")
    start = time.perf_counter()
    proc = subprocess.Popen([str(exe), *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"aiplat-gen {' '.join(args)} exited {code}:\n{out}")
    return wall, usage.ru_maxrss / 1024, out
