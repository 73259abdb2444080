"""Serving layer: the memory arithmetic, the rendered pods of vLLM, Triton and KServe, and the
weights pre-pull script run for real against a fake Hub.

Invalid profiles with exact diagnostics live in `tests/profiles/invalid/serving-*.yaml`, golden
trees in `tests/golden/serving-*`; kubeconform runs over the examples in `test_real_tools.py`
and over every serving object in `test_serving_kubeconform.py`.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from aiplat_gen.checks.validate import validate_file
from aiplat_gen.platform.engines import WeightFiles
from aiplat_gen.platform.engines.vllm import HUB_FILES as VLLM_HUB_FILES
from aiplat_gen.platform.facts.gpus import GPU_PRODUCTS
from aiplat_gen.platform.facts.models import ARCHITECTURES
from aiplat_gen.platform.memory import GIB, Device, device_for, fit, kv_cache_tokens
from aiplat_gen.profile.schema.cluster import NodePool
from aiplat_gen.render.components.base import RenderContext
from aiplat_gen.render.components.serving_prefetch import (
    FETCH,
    SCRIPT,
    PrefetchItem,
    script_command,
)
from aiplat_gen.render.pipeline import render_full
from conftest import REPO

SERVING = ("vllm", "triton", "kserve")
EXAMPLES = sorted(p.stem for p in (REPO / "profiles").glob("*.yaml"))


def _l4() -> Device:
    return Device("l4", "nvidia.com/gpu", GPU_PRODUCTS["l4"].memory_gib, 1)


def test_memory_fit_of_the_issue_example() -> None:
    result = fit(parameters=ARCHITECTURES["llama-3.1-70b"].parameters, dtype="bfloat16",
                 quantization=None, kv_cache_dtype="auto",
                 architecture=ARCHITECTURES["llama-3.1-70b"], max_model_len=4096,
                 tensor_parallel_size=1, device=_l4(), utilization=0.9)
    assert not result.fits
    assert result.describe() == ("needs 140.2 GiB per GPU (weights 131.4 + KV cache 1.2 + margin "
                                 "7.6) but l4 x 0.90 offers 21.6 GiB")


def test_tensor_parallelism_splits_weights_and_kv_heads() -> None:
    arch = ARCHITECTURES["llama-3.1-70b"]
    h100 = Device("h100-80gb", "nvidia.com/gpu", 80.0, 8)
    tp4 = fit(parameters=arch.parameters, dtype="bfloat16", quantization=None,
              kv_cache_dtype="auto", architecture=arch, max_model_len=32768,
              tensor_parallel_size=4, device=h100, utilization=0.9)
    assert tp4.weights_gib == pytest.approx(arch.parameters * 2 / 4 / GIB)
    # 8 KV heads over 4 GPUs: 2 per GPU, 2 (K, V) x 80 layers x 2 heads x 128 x 2 bytes.
    assert tp4.kv_cache_gib == pytest.approx(2 * 80 * 2 * 128 * 2 * 32768 / GIB)
    assert tp4.margin_gib == pytest.approx(1.0 + 0.05 * tp4.weights_gib)
    assert tp4.fits and tp4.offered_gib == pytest.approx(72.0)
    fp8 = fit(parameters=arch.parameters, dtype="bfloat16", quantization="fp8",
              kv_cache_dtype="fp8", architecture=arch, max_model_len=32768,
              tensor_parallel_size=4, device=h100, utilization=0.9)
    assert fp8.weights_gib == pytest.approx(tp4.weights_gib / 2)
    assert fp8.kv_cache_gib == pytest.approx(tp4.kv_cache_gib / 2)


def test_kv_cache_tokens_fill_what_is_left() -> None:
    arch = ARCHITECTURES["llama-3.1-8b"]
    h100 = Device("h100-80gb", "nvidia.com/gpu", 80.0, 8)
    result = fit(parameters=arch.parameters, dtype="bfloat16", quantization=None,
                 kv_cache_dtype="auto", architecture=arch, max_model_len=8192,
                 tensor_parallel_size=1, device=h100, utilization=0.9)
    left = 72.0 - result.weights_gib - result.margin_gib
    assert kv_cache_tokens(result, arch, "bfloat16", "auto", 1) == int(left * GIB // 131072)


def _pool(**gpu: Any) -> NodePool:
    return NodePool.model_validate({"name": "p", "cpu": "8", "memory": "32Gi", "gpu": gpu})


def test_devices_of_whole_mig_and_time_sliced_pools() -> None:
    mig = _pool(product="a100-80gb", count=8, sharing={"mode": "mig", "migProfile": "3g.40gb"})
    assert device_for(mig, "single") == Device("a100-80gb MIG 3g.40gb", "nvidia.com/gpu", 40.0,
                                               16, mig=True)
    assert device_for(mig, "mixed").resource == "nvidia.com/mig-3g.40gb"  # type: ignore[union-attr]
    sliced = _pool(product="l4", count=4, sharing={"mode": "time-slicing", "replicas": 4})
    assert device_for(sliced, "single") == Device("l4", "nvidia.com/gpu", 24.0, 16, shared_by=4)
    assert device_for(_pool(product="h100-80gb", count=8), "mixed") == Device(
        "h100-80gb", "nvidia.com/gpu", 80.0, 8)


def _serving_objects(profile: str) -> list[dict[str, Any]]:
    vp = validate_file(REPO / "profiles" / f"{profile}.yaml")
    return [o.obj for o in render_full(RenderContext(vp.profile)).objects
            if o.component in SERVING]


def _pods(objects: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any], list[dict[str, Any]]]]:
    """(name, pod spec, containers) of every workload; KServe's predictor holds `model`."""
    pods = []
    for obj in objects:
        if obj["kind"] in ("Deployment", "StatefulSet"):
            spec = obj["spec"]["template"]["spec"]
            pods.append((obj["metadata"]["name"], spec, spec["containers"]))
        elif obj["kind"] == "InferenceService":
            spec = obj["spec"]["predictor"]
            pods.append((obj["metadata"]["name"], spec, [spec["model"]]))
    return pods


@pytest.mark.parametrize("profile", EXAMPLES)
def test_every_serving_pod_is_restricted_and_scheduled(profile: str) -> None:
    pods = _pods(_serving_objects(profile))
    assert pods
    for name, spec, containers in pods:
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["priorityClassName"] == "inference-critical", name
        assert spec["nodeSelector"]["ai.platform/node-pool"].startswith("gpu-"), name
        assert spec["terminationGracePeriodSeconds"] > 15, name
        shm = next(v for v in spec["volumes"] if v["name"] == "shm")
        assert shm["emptyDir"]["medium"] == "Memory" and shm["emptyDir"]["sizeLimit"], name
        for container in [*spec.get("initContainers", []), *containers]:
            ctx = container["securityContext"]
            assert ctx["allowPrivilegeEscalation"] is False, name
            assert ctx["readOnlyRootFilesystem"] is True, name
            assert ctx["capabilities"] == {"drop": ["ALL"]}, name
            mounts = {m["mountPath"] for m in container["volumeMounts"]}
            assert {"/tmp", "/home/aiplat"} <= mounts, name
        for container in containers:
            gpus = {k: v for k, v in container["resources"]["limits"].items()
                    if k.startswith("nvidia.com/")}
            assert gpus and all(container["resources"]["requests"][k] == v
                                for k, v in gpus.items()), name
            assert "/dev/shm" in {m["mountPath"] for m in container["volumeMounts"]}, name
            env = {e["name"]: e for e in container["env"]}
            assert "HF_TOKEN" not in env, f"{name}: the token belongs to the init container"


def test_prod_serves_vllm_with_tensor_parallelism_triton_and_kserve() -> None:
    objects = _serving_objects("prod")
    kinds = {(o["kind"], o["metadata"]["name"]) for o in objects}
    assert {("StatefulSet", "llama-8b"), ("StatefulSet", "llama-70b"),
            ("InferenceService", "mistral-7b"), ("Deployment", "rag-encoders")} <= kinds
    llama = next(o for o in objects if o["metadata"]["name"] == "llama-70b"
                 and o["kind"] == "StatefulSet")
    server = llama["spec"]["template"]["spec"]["containers"][0]
    assert server["command"] == ["vllm", "serve"]
    assert server["args"][0] == "/models/model/1605565b47bb9346c5515c34102e054115b4f98b"
    args = server["args"]
    assert args[args.index("--tensor-parallel-size") + 1] == "4"
    assert server["resources"]["limits"]["nvidia.com/gpu"] == "4"
    pdbs = [o for o in objects if o["kind"] == "PodDisruptionBudget"]
    assert pdbs and all(p["spec"]["maxUnavailable"] == 1 for p in pdbs)


def test_dev_serves_from_a_mig_slice() -> None:
    llama = next(o for o in _serving_objects("dev") if o["kind"] == "StatefulSet")
    spec = llama["spec"]["template"]["spec"]
    assert spec["nodeSelector"] == {"ai.platform/node-pool": "gpu-a100-mig"}
    assert llama["spec"]["replicas"] == 1


def _containers(node: Any) -> list[dict[str, Any]]:
    """Every container (init or not) anywhere in a rendered object."""
    found = []
    if isinstance(node, dict):
        if "image" in node and "name" in node and "command" in node:
            found.append(node)
        for value in node.values():
            found += _containers(value)
    elif isinstance(node, list):
        for value in node:
            found += _containers(value)
    return found


@pytest.mark.parametrize("profile", ["base", "dev", "staging", "prod"])
def test_every_hub_download_gets_the_token(profile: str) -> None:
    vp = validate_file(REPO / "profiles" / f"{profile}.yaml")
    objects = [o.obj for o in render_full(RenderContext(vp.profile)).objects]
    downloading = [c for o in objects for c in _containers(o)
                   if c["command"] == script_command(FETCH)]
    assert downloading
    for container in downloading:
        tokens = [e for e in container["env"] if e["name"] == "HF_TOKEN"]
        assert tokens == [{"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {
            "name": "hf-token", "key": "token"}}}], container["name"]


# --- the pre-pull script, run for real -------------------------------------------------------

FAKE_HUB = """\
import fnmatch, os, shutil
def snapshot_download(repo_id, revision, local_dir, allow_patterns=None, ignore_patterns=None):
    if os.environ.get("FAKE_HUB_OFFLINE"):
        raise RuntimeError("no network")
    src = os.path.join(os.environ["FAKE_HUB"], repo_id, revision)
    for folder, _, names in os.walk(src):
        for name in names:
            rel = os.path.relpath(os.path.join(folder, name), src).replace(os.sep, "/")
            # huggingface_hub utils/_paths.py filter_repo_objects: fnmatch, allow then ignore.
            if allow_patterns is not None and not any(fnmatch.fnmatch(rel, p)
                                                      for p in allow_patterns):
                continue
            if ignore_patterns and any(fnmatch.fnmatch(rel, p) for p in ignore_patterns):
                continue
            os.makedirs(os.path.dirname(os.path.join(local_dir, rel)), exist_ok=True)
            shutil.copy(os.path.join(folder, name), os.path.join(local_dir, rel))
    os.makedirs(os.path.join(local_dir, ".cache", "huggingface"), exist_ok=True)
    with open(os.path.join(local_dir, ".cache", "huggingface", "meta"), "w") as f:
        f.write("download metadata, not part of the manifest")
    return local_dir
"""
REVISION = "a" * 40


@pytest.fixture
def hub(tmp_path: Path) -> Path:
    """A fake Hub: one revision shaped like Meta's Llama repositories (safetensors shards, a
    tokenizer, and an `original/` consolidated checkpoint), and a fake huggingface_hub."""
    snapshot = tmp_path / "hub" / "org" / "model" / REVISION
    (snapshot / "sub").mkdir(parents=True)
    (snapshot / "original").mkdir()
    (snapshot / "config.json").write_text('{"num_hidden_layers": 2}\n')
    (snapshot / "model-00001.safetensors").write_bytes(os.urandom(3 << 20))
    (snapshot / "sub" / "tokenizer.json").write_text("{}\n")
    (snapshot / "original" / "consolidated.00.pth").write_bytes(os.urandom(3 << 20))
    (snapshot / "original" / "params.json").write_text("{}\n")
    (snapshot / "README.md").write_text("model card\n")
    module = tmp_path / "pylib" / "huggingface_hub"
    module.mkdir(parents=True)
    (module / "__init__.py").write_text(FAKE_HUB)
    return tmp_path


def _trusted_copy(hub: Path, files: WeightFiles) -> Path:
    """The documented procedure's first step: the engine's files of the revision."""
    src = hub / "hub" / "org" / "model" / REVISION
    copy = hub / "trusted"
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src).as_posix()
        if path.is_file() and files.matches(rel):
            (copy / rel).parent.mkdir(parents=True, exist_ok=True)
            (copy / rel).write_bytes(path.read_bytes())
    return copy


def _coreutils_manifest_sha(folder: Path) -> str:
    """The documented command: sha256sum of every file but .cache, sorted, then hashed."""
    cmd = ("find . -type f ! -path './.cache/*' ! -name .aiplat-verified | LC_ALL=C sort | "
           "xargs -d '\\n' sha256sum | sha256sum")
    out = subprocess.run(["bash", "-c", cmd], cwd=folder, capture_output=True, text=True,
                         check=True)
    return out.stdout.split()[0]


def _prefetch(hub: Path, target: Path, sha256: str, offline: bool = False, mode: str = "fetch",
              files: WeightFiles | None = VLLM_HUB_FILES) -> subprocess.CompletedProcess[str]:
    item = PrefetchItem("org/model", REVISION, sha256, str(target), files)
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(hub / "pylib"),
           "FAKE_HUB": str(hub / "hub"), "AIPLAT_PREFETCH": json.dumps([item.as_dict()])}
    if offline:
        env["FAKE_HUB_OFFLINE"] = "1"
    return subprocess.run([sys.executable, "-c", SCRIPT, mode], env=env, capture_output=True,
                          text=True, timeout=60, check=False)


def test_prefetch_downloads_only_what_the_engine_loads(hub: Path) -> None:
    expected = _coreutils_manifest_sha(_trusted_copy(hub, VLLM_HUB_FILES))
    target = hub / "volume" / "model" / REVISION
    done = _prefetch(hub, target, expected)
    assert done.returncode == 0, done.stderr
    assert f"manifest sha256 {expected}" in done.stdout
    assert (target / "config.json").is_file() and (target / "sub" / "tokenizer.json").is_file()
    assert not (target / "original").exists(), "Llama's original/ checkpoint doubles the bytes"
    assert not (target / "README.md").exists()
    assert _coreutils_manifest_sha(target) == expected  # the Hub's .cache/ is left out


def test_prefetch_verifies_once_per_revision_and_sha256(hub: Path) -> None:
    expected = _coreutils_manifest_sha(_trusted_copy(hub, VLLM_HUB_FILES))
    target = hub / "volume" / "model" / REVISION
    assert _prefetch(hub, target, expected).returncode == 0
    assert json.loads((target / ".aiplat-verified").read_text()) == {
        "revision": REVISION, "sha256": expected}
    # A restart with the same pins neither downloads nor re-reads the weights: a shard the
    # marker vouches for is not hashed again (removing it would fail a re-hash).
    (target / "model-00001.safetensors").unlink()
    again = _prefetch(hub, target, expected, offline=True)
    assert again.returncode == 0, again.stderr
    assert "already verified" in again.stdout
    # Another sha256 pin is not vouched for by the marker: downloaded and verified again.
    other = hashlib.sha256(b"another manifest").hexdigest()
    changed = _prefetch(hub, target, other)
    assert changed.returncode == 1
    assert f"does not match the pinned {other}" in changed.stderr
    assert not (target / ".aiplat-verified").exists(), "a stale marker must not survive"


def test_prefetch_refuses_weights_that_do_not_match(hub: Path) -> None:
    target = hub / "volume" / "model" / REVISION
    wrong = hashlib.sha256(b"not the manifest").hexdigest()
    failed = _prefetch(hub, target, wrong)
    assert failed.returncode == 1
    assert f"does not match the pinned {wrong}" in failed.stderr
    assert not (target / ".aiplat-verified").exists()


def test_wait_mode_needs_the_marker_of_the_pinned_revision(hub: Path) -> None:
    expected = _coreutils_manifest_sha(_trusted_copy(hub, VLLM_HUB_FILES))
    target = hub / "volume" / "model" / REVISION
    waiting = _prefetch(hub, target, expected, offline=True, mode="wait")
    assert waiting.returncode == 1 and "waiting for the weights Job" in waiting.stderr
    assert _prefetch(hub, target, expected).returncode == 0
    assert _prefetch(hub, target, expected, offline=True, mode="wait").returncode == 0
    other = hashlib.sha256(b"another manifest").hexdigest()
    assert _prefetch(hub, target, other, offline=True, mode="wait").returncode == 1
