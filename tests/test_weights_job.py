"""Serving pods have no internet egress: a weights Job per model revision downloads the weights
(issue 15 item 8). Expectations come from the profiles and the platform code (which models
have a weights Job, which read their weights themselves), never from the rendered output."""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from aiplat_gen.checks.policy.engine import matches
from aiplat_gen.checks.policy.rules import pod_template
from aiplat_gen.checks.validate import validate_file
from aiplat_gen.platform.graph import reads_weights_itself
from aiplat_gen.platform.pods import MODEL_LABEL, WEIGHTS_FOR_LABEL
from aiplat_gen.platform.secrets import hub_token
from aiplat_gen.platform.workload_resources import fetches_in_pod, weights_job
from aiplat_gen.profile.schema.profile import Profile
from aiplat_gen.profile.schema.serving import Model
from aiplat_gen.render.components.serving_prefetch import MARKER, SCRIPT
from aiplat_gen.render.pipeline import render_profile
from conftest import REPO

PROFILES = sorted([*(REPO / "profiles").glob("*.yaml"),
                   *(REPO / "tests" / "golden").glob("*/profiles/*.yaml")])


def _id(path: Path) -> str:
    return str(path.relative_to(REPO))


def _render(path: Path) -> tuple[Profile, list[dict[str, Any]]]:
    profile = validate_file(path).profile
    return profile, [o.obj for o in render_profile(profile).objects]


def _public(cidr: str) -> bool:
    return not ipaddress.ip_network(cidr).is_private


def _internet_policies(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """NetworkPolicies with an egress rule to a non-private range."""
    return [o for o in objects if o["kind"] == "NetworkPolicy" and any(
        _public(peer["ipBlock"]["cidr"]) for rule in o["spec"].get("egress") or []
        for peer in rule.get("to") or [] if "ipBlock" in peer)]


def _pods(objects: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, str]]]:
    """(object, pod labels) of every pod template, KServe predictors included."""
    found = []
    for obj in objects:
        pod = pod_template(obj)
        if pod is not None:
            found.append((obj, pod.labels))
    return found


def _models(profile: Profile) -> dict[str, Model]:
    return {m.name: m for m in profile.spec.models}


def _pinned(model: Model) -> tuple[str, str]:
    """(revision, sha256) the model's pods serve: the KServe canary's while one is named."""
    canary = model.kserve.canary if model.kserve is not None else None
    if canary is not None:
        return canary.revision, canary.sha256
    return model.source.revision or "", model.source.sha256 or ""


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


@pytest.mark.parametrize("path", PROFILES, ids=_id)
def test_serving_pods_have_no_internet_egress(path: Path) -> None:
    """No pod labelled with a model is selected by a policy allowing egress to a public range,
    unless it reads its weights itself (Triton on an object store, per-replica volumes)."""
    profile, objects = _render(path)
    models = _models(profile)
    for policy in _internet_policies(objects):
        namespace = policy["metadata"]["namespace"]
        for obj, labels in _pods(objects):
            if obj["metadata"].get("namespace") != namespace or MODEL_LABEL not in labels:
                continue
            if not matches(policy["spec"]["podSelector"], labels):
                continue
            model = models[labels[MODEL_LABEL]]
            assert reads_weights_itself(model), (
                f"{obj['kind']} {obj['metadata']['name']} serves {model.name} and "
                f"{policy['metadata']['name']} lets it reach the internet")


@pytest.mark.parametrize("path", PROFILES, ids=_id)
def test_weights_job_per_model_revision(path: Path) -> None:
    """Every model whose weights a Job fetches has one Job with the pinned revision, the token
    and internet egress; its server pods' init container only waits, without a token."""
    profile, objects = _render(path)
    jobs = [o for o in objects if o["kind"] == "Job"]
    for model in profile.spec.models:
        mine = [j for j in jobs
                if j["spec"]["template"]["metadata"]["labels"].get(WEIGHTS_FOR_LABEL)
                == model.name]
        if not weights_job(model):
            assert mine == [], model.name
            continue
        assert len(mine) == 1, model.name
        job = mine[0]
        assert len(job["metadata"]["name"]) <= 63
        assert "ttlSecondsAfterFinished" not in job["spec"]
        template = job["spec"]["template"]
        assert MODEL_LABEL not in template["metadata"]["labels"]
        (fetch,) = template["spec"]["containers"]
        assert fetch["command"][-1] == "fetch"
        env = _env(fetch)
        revision, sha256 = _pinned(model)
        items = json.loads(env["AIPLAT_PREFETCH"])
        if model.source.uri.startswith("hf://"):
            assert {"revision": revision, "sha256": sha256}.items() <= items[0].items()
        assert ("HF_TOKEN" in env) == (hub_token(profile, model) is not None)
        assert any(matches(p["spec"]["podSelector"], template["metadata"]["labels"])
                   for p in _internet_policies(objects)
                   if p["metadata"]["namespace"] == model.namespace) == \
            bool(profile.spec.security.network_policies.enabled
                 and profile.spec.security.network_policies.model_source_hosts)
        for obj, labels in _pods(objects):
            if labels.get(MODEL_LABEL) != model.name:
                continue
            pod = pod_template(obj)
            assert pod is not None
            (wait,) = pod.init_containers
            assert wait["command"][-1] == "wait"
            assert "HF_TOKEN" not in _env(wait)
            assert json.loads(_env(wait)["AIPLAT_PREFETCH"]) == items
            assert all(m.get("readOnly") for m in wait["volumeMounts"] if m["name"] == "weights")


def test_per_replica_models_still_download_in_pod() -> None:
    """The documented exception: base's llama-8b has per-replica volumes, no Job can fill them,
    its pods download themselves and `validate` says they keep internet egress."""
    vp = validate_file(REPO / "profiles" / "base.yaml")
    llama = _models(vp.profile)["llama-8b"]
    assert fetches_in_pod(llama) and not weights_job(llama)
    assert any("keep HTTPS egress" in d.message for d in vp.warnings)


def _run(mode: str, root: Path, items: list[dict[str, Any]], wait_seconds: int = 0
         ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AIPLAT_PREFETCH": json.dumps(items),
           "AIPLAT_WAIT_SECONDS": str(wait_seconds)}
    return subprocess.run([sys.executable, "-c", SCRIPT, mode], env=env, cwd=root,
                          capture_output=True, text=True, timeout=60, check=False)


def test_wait_mode_waits_for_the_marker(tmp_path: Path) -> None:
    """`wait` reads only the marker: missing or another sha256 -> exit 1 after its timeout,
    the pinned one -> exit 0."""
    item = {"repo": "org/repo", "revision": "a" * 40, "sha256": "b" * 64,
            "dir": str(tmp_path / "model"), "allow": None, "ignore": []}
    result = _run("wait", tmp_path, [item])
    assert result.returncode == 1 and "waiting for the weights Job" in result.stderr
    (tmp_path / "model").mkdir()
    marker = tmp_path / "model" / MARKER
    marker.write_text(json.dumps({"revision": item["revision"], "sha256": "c" * 64}))
    assert _run("wait", tmp_path, [item]).returncode == 1
    marker.write_text(json.dumps({"revision": item["revision"], "sha256": item["sha256"]}))
    assert _run("wait", tmp_path, [item], wait_seconds=600).returncode == 0
