"""Every serving object the example profiles and the serving golden cases render passes the
real kubeconform `-strict` (Kubernetes schemas prepared offline, the KServe CRD schema from
../shared/schemas/crds; a missing schema is an error, never a skip)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from aiplat_gen.checks.validate import validate_file
from aiplat_gen.render.components.base import RenderContext
from aiplat_gen.render.pipeline import render_full
from aiplat_gen.verify.kube.kubeconform import find_tool, run_kubeconform
from aiplat_gen.verify.kube.schemas import kubeconform_schema_locations, prepare_kubernetes_schemas
from conftest import REPO

SERVING = ("vllm", "triton", "kserve")
PROFILES = [*sorted((REPO / "profiles").glob("*.yaml")),
            *sorted((REPO / "tests" / "golden").glob("serving-*/profiles/*.yaml"))]
EXPECTED_KINDS = {"Deployment", "StatefulSet", "Job", "Service", "PersistentVolumeClaim",
                  "PodDisruptionBudget", "InferenceService"}


def _serving_objects(path: Path) -> tuple[str, list[dict[str, Any]]]:
    vp = validate_file(path)
    objects = [o.obj for o in render_full(RenderContext(vp.profile)).objects
               if o.component in SERVING]
    return vp.profile.spec.kubernetes_version, objects


def test_kubeconform_strict_accepts_every_serving_object(
        shared: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    cache = tmp_path_factory.mktemp("k8s-schemas")
    kinds: set[str] = set()
    checked = 0
    for path in PROFILES:
        version, objects = _serving_objects(path)
        if not objects:
            continue
        locations = kubeconform_schema_locations(prepare_kubernetes_schemas(version, cache),
                                                 [shared / "schemas" / "crds"])
        report = run_kubeconform(yaml.safe_dump_all(objects, sort_keys=False), version,
                                 locations, find_tool("kubeconform"))
        problems = [f"{path.name}: {r.kind}/{r.name}: {r.status} {r.msg}"
                    for r in report.problems]
        assert report.ok and not problems, problems
        assert report.summary.valid == len(objects) and report.summary.skipped == 0
        kinds |= {o["kind"] for o in objects}
        checked += len(objects)
    assert kinds == EXPECTED_KINDS
    assert checked >= 40
