"""The resolved view of a profile (`platform.resolved`) agrees with what is rendered and planned
for the example profiles, and `validate` and `plan` judge a model's memory by one computation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aiplat_gen.checks import run_checks
from aiplat_gen.checks.validate import Locator, validate_file
from aiplat_gen.platform.memory import MemoryFit
from aiplat_gen.platform.memory import fit as real_fit
from aiplat_gen.platform.resolved import resolve
from aiplat_gen.platform.scheduling import placement
from aiplat_gen.profile.loader import to_plain
from aiplat_gen.profile.merge import load_profile
from aiplat_gen.profile.schema.profile import Profile
from aiplat_gen.render.components.serving_common import MODEL_LABEL
from aiplat_gen.render.pipeline import render_profile
from aiplat_gen.reports.plan import build_plan
from conftest import REPO

EXAMPLES = sorted((REPO / "profiles").glob("*.yaml"))
WORKLOADS = ("Deployment", "StatefulSet")


def _pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    # KServe places the pod fields on the predictor itself.
    if obj["kind"] == "InferenceService":
        predictor: dict[str, Any] = obj["spec"]["predictor"]
        return predictor
    template: dict[str, Any] = obj["spec"]["template"]["spec"]
    return template


def _model_pods(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The pod spec of each model's server workload, by model name."""
    return {o["metadata"]["labels"][MODEL_LABEL]: _pod_spec(o) for o in objects
            if o["kind"] in (*WORKLOADS, "InferenceService")
            and MODEL_LABEL in o["metadata"].get("labels", {})}


def _gpu_requests(pod: dict[str, Any]) -> dict[str, str]:
    """Extended (GPU) resources the pod's containers, or KServe's model container, request."""
    containers = [*pod.get("containers", []), *([pod["model"]] if "model" in pod else [])]
    return {k: str(v) for c in containers for k, v in c["resources"]["limits"].items()
            if "/" in k}


def _schema_valid(path: Path) -> Profile:
    """The profile as the checks see it: schema-valid, not yet cross-checked."""
    plain, _ = to_plain(load_profile(path).tree)
    return Profile.model_validate(plain)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_rendered_models_run_where_resolved(path: Path) -> None:
    profile = validate_file(path).profile
    pods = _model_pods([o.obj for o in render_profile(profile).objects])
    view = resolve(profile)
    assert sorted(pods) == sorted(m.name for m in view.models)
    for model in view.models:
        pod = pods[model.name]
        assert model.pool is not None and model.device is not None
        place = placement(model.pool)
        assert pod["nodeSelector"] == place.node_selector
        assert pod.get("tolerations", []) == place.tolerations
        assert pod.get("priorityClassName") == model.priority_class
        assert _gpu_requests(pod) == {model.device.resource: str(model.model.gpus)}


def _store_placement(obj: dict[str, Any]) -> tuple[dict[str, str], tuple[str, str | None] | None]:
    """(nodeSelector, (size, storage class) of each pod's volume or None) of a data store's
    workload: a StatefulSet or Deployment, or a CloudNativePG Cluster."""
    if obj["kind"] == "Cluster":
        storage = obj["spec"]["storage"]
        return (obj["spec"]["affinity"]["nodeSelector"],
                (storage["size"], storage.get("storageClass")))
    claims = obj["spec"].get("volumeClaimTemplates", [])
    volume = None
    if claims:
        (claim,) = claims
        volume = (claim["spec"]["resources"]["requests"]["storage"],
                  claim["spec"].get("storageClassName"))
    return _pod_spec(obj)["nodeSelector"], volume


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_rendered_data_stores_run_where_resolved(path: Path) -> None:
    profile = validate_file(path).profile
    objects = [o.obj for o in render_profile(profile).objects]
    for service in resolve(profile).data_services:
        if service.pods == 0:
            continue
        assert service.pool is not None
        (workload,) = [o for o in objects if o["kind"] in (*WORKLOADS, "Cluster")
                       and o["metadata"]["name"] == service.store.name
                       and o["metadata"]["namespace"] == service.store.namespace]
        storage = service.storage
        assert _store_placement(workload) == (
            placement(service.pool).node_selector,
            None if storage is None else (storage.size, storage.storage_class))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_plan_reports_the_resolved_memory_fit(path: Path) -> None:
    profile = validate_file(path).profile
    plan = build_plan(profile)
    view = resolve(profile)
    assert [m.name for m in plan.models] == [m.name for m in view.models]
    for planned, model in zip(plan.models, view.models, strict=True):
        assert model.pool is not None and model.device is not None
        assert (planned.node_pool, planned.device, planned.resource) == (
            model.pool.name, model.device.label, model.device.resource)
        fit = model.memory
        if fit is None:
            assert planned.memory is None
            continue
        assert planned.memory is not None
        assert (planned.memory.device, planned.memory.utilization) == (
            fit.device.label, fit.utilization)
        assert (planned.memory.weights_gib, planned.memory.kv_cache_gib,
                planned.memory.margin_gib, planned.memory.needed_gib,
                planned.memory.available_gib, planned.memory.headroom_gib) == tuple(
            round(x, 2) for x in (fit.weights_gib, fit.kv_cache_gib, fit.margin_gib,
                                  fit.needed_gib, fit.offered_gib, fit.spare_gib))


def test_resolving_a_profile_twice_gives_the_same_view() -> None:
    profile = validate_file(REPO / "profiles" / "prod.yaml").profile
    assert resolve(profile) is resolve(profile)
    assert resolve(profile) is not resolve(profile.model_copy())


def test_validate_and_plan_share_one_memory_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[MemoryFit] = []

    def counting_fit(**kwargs: Any) -> MemoryFit:
        calls.append(real_fit(**kwargs))
        return calls[-1]

    monkeypatch.setattr("aiplat_gen.platform.resolved.fit", counting_fit)
    validated = validate_file(REPO / "profiles" / "prod.yaml")
    build_plan(validated.profile)
    fits = [m.memory for m in resolve(validated.profile).models if m.memory is not None]
    assert fits and len(calls) == len(fits)
    assert all(a is b for a, b in zip(calls, fits, strict=True))


def test_validate_and_plan_cannot_disagree_on_memory_fit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Shrink every device's share to 1%: whatever the fit says, the check and the plan say it.

    def starved_fit(**kwargs: Any) -> MemoryFit:
        return real_fit(**{**kwargs, "utilization": 0.01})

    monkeypatch.setattr("aiplat_gen.platform.resolved.fit", starved_fit)
    path = REPO / "profiles" / "prod.yaml"
    profile = _schema_valid(path)
    source = load_profile(path)
    _, positions = to_plain(source.tree)
    diagnostics = run_checks(profile, Locator(positions, source.tree.pos))
    refused = {d.message.split(" ", 1)[0] for d in diagnostics if " GiB per GPU " in d.message}
    plan = build_plan(profile)
    short = {m.name for m in plan.models if m.memory is not None and m.memory.headroom_gib < 0}
    assert short and refused == short
