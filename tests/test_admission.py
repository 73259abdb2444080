"""What the API server does to container resources at pod creation
(`aiplat_gen.platform.admission`), and the containers the platform renders
(`aiplat_gen.platform.workload_resources`), which the LimitRange and quota
checks compare: the same values the pods carry, read from one place."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from aiplat_gen.checks import limit_ranges
from aiplat_gen.checks.validate import validate_file
from aiplat_gen.core.errors import Position
from aiplat_gen.platform.admission import LimitRangeItem, Value, admit, quota_missing, validate
from aiplat_gen.platform.pods import WEIGHTS_FOR_LABEL
from aiplat_gen.platform.workload_resources import Container, Workload, workloads
from aiplat_gen.profile.locator import Locator
from aiplat_gen.render.pipeline import render_profile
from conftest import REPO

CPU_8 = {"cpu": "8", "memory": "40Gi"}
MEMORY_LIMIT = {"memory": "40Gi"}


def test_limit_range_defaults_follow_the_api_server() -> None:
    # SetDefaults_LimitRangeItem: default <- max, then defaultRequest <- default.
    item = LimitRangeItem.of({"defaultRequest": {"cpu": "250m"}, "max": {"memory": "8Gi"}})
    assert item.get("default") == {"memory": "8Gi"}
    assert item.get("defaultRequest") == {"cpu": "250m", "memory": "8Gi"}
    assert item.sources[("defaultRequest", "memory")] == ("max", "memory")
    assert item.sources[("default", "memory")] == ("max", "memory")
    declared = LimitRangeItem.of({"default": {"memory": "2Gi"}, "max": {"memory": "8Gi"}})
    assert declared.get("defaultRequest") == {"memory": "2Gi"}
    assert declared.sources[("defaultRequest", "memory")] == ("default", "memory")


@pytest.mark.parametrize(("declared", "expected"), [
    ({"default": {"cpu": "500m"}, "defaultRequest": {"cpu": "1"}},
     [(("defaultRequest", "cpu"), ("defaultRequest", "cpu"),
       "default request value 1 is greater than default limit value 500m")]),
    # defaultRequest defaults to the default limit, so it is above max too.
    ({"default": {"memory": "16Gi"}, "max": {"memory": "8Gi"}},
     [(("defaultRequest", "memory"), ("default", "memory"),
       "default request value 16Gi is greater than max value 8Gi"),
      (("default", "memory"), ("default", "memory"),
       "default value 16Gi is greater than max value 8Gi")]),
    # Without defaultMemory the default limit is max: 16Gi is above both, one declared value.
    ({"defaultRequest": {"memory": "16Gi"}, "max": {"memory": "8Gi"}},
     [(("defaultRequest", "memory"), ("defaultRequest", "memory"),
       "default request value 16Gi is greater than max value 8Gi"),
      (("defaultRequest", "memory"), ("defaultRequest", "memory"),
       "default request value 16Gi is greater than default limit value 8Gi")]),
    ({"default": {"cpu": "2", "memory": "2Gi"}, "defaultRequest": {"cpu": "2"},
      "max": {"memory": "2Gi"}}, []),
])
def test_invalid_limit_ranges_are_refused(declared: dict[str, dict[str, str]],
                                          expected: list[tuple[Any, Any, str]]) -> None:
    found = [(p.key, p.source, p.message) for p in validate(LimitRangeItem.of(declared))]
    assert found == expected


def test_default_cpu_limit_below_the_request_refuses_the_pod() -> None:
    # Issue 13: a container that requests 8 CPUs and sets no CPU limit gets the default of 1.
    item = LimitRangeItem.of({"default": {"cpu": "1", "memory": "2Gi"},
                              "defaultRequest": {"cpu": "250m", "memory": "512Mi"}})
    admitted = admit(CPU_8, MEMORY_LIMIT, item)
    assert admitted.limits == {"memory": Value("40Gi", "container"), "cpu": Value("1", "default")}
    assert admitted.requests["cpu"] == Value("8", "container")
    [refusal] = admitted.refusals
    assert (refusal.rule, refusal.resource, refusal.blame, refusal.subject, refusal.value) == (
        "request-above-limit", "cpu", ("default", "cpu"), "request", "8")
    assert refusal.message == "must be less than or equal to cpu limit of 1"
    # Without the default CPU limit the same container is admitted, with no CPU limit.
    item = LimitRangeItem.of({"default": {"memory": "2Gi"},
                              "defaultRequest": {"cpu": "250m", "memory": "512Mi"}})
    admitted = admit(CPU_8, MEMORY_LIMIT, item)
    assert admitted.refusals == () and "cpu" not in admitted.limits


def test_a_limit_without_a_request_becomes_the_request_before_the_limit_range() -> None:
    # API defaulting copies the limit; defaultRequest only fills what is still missing.
    item = LimitRangeItem.of({"default": {"cpu": "4"}, "defaultRequest": {"cpu": "100m",
                                                                          "memory": "1Gi"}})
    admitted = admit({}, {"memory": "64Mi"}, item)
    assert admitted.requests == {"memory": Value("64Mi", "limit"),
                                 "cpu": Value("100m", "defaultRequest")}
    assert admitted.limits == {"memory": Value("64Mi", "container"), "cpu": Value("4", "default")}
    assert admitted.refusals == ()


def test_a_request_above_its_own_limit_is_not_the_limit_ranges_fault() -> None:
    admitted = admit({"memory": "24Gi"}, {"memory": "16Gi"}, None)
    [refusal] = admitted.refusals
    assert refusal.blame is None
    assert refusal.message == "must be less than or equal to memory limit of 16Gi"


def test_max_needs_a_limit_at_most_max_and_a_request_at_most_max() -> None:
    item = LimitRangeItem.of({"max": {"cpu": "4", "memory": "8Gi"}})
    # No limit of its own: the defaulted limit is max, which passes.
    assert admit({"cpu": "2"}, {}, item).refusals == ()
    # A limit above max.
    [over] = admit({"cpu": "2"}, {"memory": "16Gi"}, item).refusals
    assert (over.rule, over.blame, over.subject, over.value) == (
        "max", ("max", "memory"), "limit", "16Gi")
    assert over.message == "maximum memory usage per Container is 8Gi, but limit is 16Gi"
    # A request above max under a limit that is not: refused twice (validation and LimitRanger).
    rules = [(r.rule, r.blame, r.message) for r in
             admit({"cpu": "6"}, {"cpu": "3"}, item).refusals]
    assert rules == [("request-above-limit", None, "must be less than or equal to cpu limit of 3"),
                     ("max", ("max", "cpu"),
                      "maximum cpu usage per Container is 4, but request is 6")]


def test_max_without_any_limit_is_refused() -> None:
    # `max` always becomes `default` when it is stored; an item built without that defaulting
    # (as a LimitRange of another version could hold) shows the rule itself.
    item = LimitRangeItem({("max", "cpu"): "4"}, {("max", "cpu"): ("max", "cpu")})
    [refusal] = admit({"cpu": "1"}, {}, item).refusals
    assert (refusal.subject, refusal.value) == ("limit", "")
    assert refusal.message == "maximum cpu usage per Container is 4.  No limit is specified"


def test_max_compares_milli_units_rounded_up() -> None:
    # 1.0001 and 1.00005 CPUs are both 1001m once rounded up: not above the maximum.
    item = LimitRangeItem.of({"max": {"cpu": "1.00005"}})
    assert admit({}, {"cpu": "1.0001"}, item).refusals == ()
    # 1001m is above 1.
    item = LimitRangeItem.of({"max": {"cpu": "1"}})
    assert [r.rule for r in admit({}, {"cpu": "1001m"}, item).refusals] == ["max"]


def test_quota_needs_every_value_it_counts() -> None:
    hard = ["requests.cpu", "requests.memory", "limits.memory", "requests.nvidia.com/gpu"]
    bare = admit({}, {}, None)
    assert quota_missing(bare, hard) == ["requests.cpu", "requests.memory", "limits.memory"]
    # A memory limit alone gives the memory request too (API defaulting).
    assert quota_missing(admit({"cpu": "1"}, {"memory": "1Gi"}, None), hard) == []
    # The LimitRange's defaults count.
    item = LimitRangeItem.of({"default": {"memory": "2Gi"}, "defaultRequest": {"cpu": "250m"}})
    assert quota_missing(admit({}, {}, item), hard) == []
    assert quota_missing(admit({}, {}, item), ["limits.cpu"]) == ["limits.cpu"]


# --- the rendered pods carry exactly the containers the checks compare ---------------------

def _pods(objects: list[dict[str, Any]]) -> dict[tuple[str, str], list[tuple[str, bool, Any]]]:
    """(namespace, workload name) -> [(container, init, resources)] of every rendered pod."""
    pods: dict[tuple[str, str], list[tuple[str, bool, Any]]] = {}
    for obj in objects:
        kind, meta = obj["kind"], obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        if kind in ("Deployment", "StatefulSet"):
            spec = obj["spec"]["template"]["spec"]
            pods[key] = [(c["name"], True, c["resources"]) for c in spec.get("initContainers", [])]
            pods[key] += [(c["name"], False, c["resources"]) for c in spec["containers"]]
        elif kind == "Job":  # a weights Job: listed as `<model>-weights`
            spec = obj["spec"]["template"]["spec"]
            model = obj["spec"]["template"]["metadata"]["labels"][WEIGHTS_FOR_LABEL]
            pods[(meta["namespace"], f"{model}-weights")] = [
                (c["name"], False, c["resources"]) for c in spec["containers"]]
        elif kind == "InferenceService":
            predictor = obj["spec"]["predictor"]
            pods[key] = [(c["name"], True, c["resources"])
                         for c in predictor.get("initContainers", [])]
            pods[key].append(("kserve-container", False, predictor["model"]["resources"]))
        elif kind == "Cluster":  # CloudNativePG gives spec.resources to both containers
            resources = obj["spec"]["resources"]
            pods[key] = [("bootstrap-controller", True, resources),
                         ("postgres", False, resources)]
    return pods


PROFILES = [REPO / "profiles" / f"{name}.yaml" for name in ("dev", "prod")] + [
    REPO / "tests" / "golden" / case / "profiles" / "base.yaml"
    for case in ("data-pgvector", "data-redis", "serving-kserve", "serving-triton")]


@pytest.mark.parametrize("path", PROFILES, ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_rendered_pods_are_the_checked_workloads(path: Path) -> None:
    profile = validate_file(path).profile
    rendered = _pods([o.obj for o in render_profile(profile).objects])
    listed = {(w.namespace, w.name): [(c.name, c.init, c.resources()) for c in w.containers]
              for w in workloads(profile)}
    assert listed == rendered


def test_issue_13_default_cpu_limit_of_the_examples(workspace: Path,
                                                    cli: Callable[..., Result]) -> None:
    # The example profiles as they were: a default CPU limit of 1 in both workload namespaces.
    base = workspace / "profiles" / "base.yaml"
    text = base.read_text(encoding="utf-8")
    limit = "      limitRange:\n"
    base.write_text(text.replace(limit, limit + '        defaultCpu: "1"\n'), encoding="utf-8")
    result = cli("validate", "prod")
    assert result.exit_code == 1, result.output
    refused = sorted(line.split(" that set no CPU limit")[0].rsplit(" of ", 1)[1]
                     for line in result.stderr.splitlines() if "limitRange.defaultCpu" in line)
    assert refused == ["model 'llama-70b'", "model 'llama-8b'", "model 'mistral-7b'",
                       "model 'rag-encoders'", "vector database 'weaviate'"]
    # Redis (1 CPU), its exporter (50m) and PostgreSQL (1 CPU) fit under the limit of 1.
    assert "semantic-cache" not in result.stderr and "docs-pg" not in result.stderr


def test_quota_diagnostic_names_the_containers_without_the_values(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Every container the platform renders carries a CPU request and a memory request and
    # limit; a container without them (as a future sidecar could be) fails the quota rule.
    profile = validate_file(REPO / "profiles" / "prod.yaml").profile
    bare = Container("sidecar", False, {}, {})
    fake = Workload("model", "llama-8b", "llm-serving", ("spec", "models", 0),
                    (bare, Container("vllm", False, {"cpu": "8", "memory": "1Gi"},
                                     {"memory": "1Gi"})))
    monkeypatch.setattr(limit_ranges, "workloads", lambda _: [fake])
    at = Locator({}, Position("prod.yaml", 1, 1))
    found = [(d.path, d.message, d.hint) for d in limit_ranges.quota_requirements(profile, at)]
    # llm-serving's LimitRange gives the CPU and memory requests and the memory limit.
    assert found == []
    no_limit_range = profile.spec.namespaces[0].model_copy(update={"limit_range": None})
    spec = profile.spec.model_copy(update={"namespaces": [no_limit_range]})
    found = [(d.path, d.message, d.hint) for d in limit_ranges.quota_requirements(
        profile.model_copy(update={"spec": spec}), at)]
    assert [f[0] for f in found] == ["spec.namespaces[0].quota.cpu",
                                     "spec.namespaces[0].quota.memory",
                                     "spec.namespaces[0].quota.memory"]
    assert found[0][1] == ("the quota on requests.cpu needs every container to set it, but "
                           "model 'llama-8b' gives none for sidecar: the API server refuses its "
                           "pods (must specify requests.cpu)")
    assert found[2][2] == "set limitRange.defaultMemory so containers without a memory limit " \
                          "get one"
