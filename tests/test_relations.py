"""Relation checks in an `extends` chain (issue 17): a diagnostic that compares values is
placed at the value the most-derived profile wrote (the child's override), and names where
the other values are written. Each case writes a child of the example `prod` profile that
overrides ONE value, which on its own is valid but breaks a relation with inherited values."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result


@pytest.fixture
def profiles(workspace: Path) -> Path:
    """The example profiles in a temporary current folder (conftest's `workspace`)."""
    return workspace / "profiles"


def _child(name: str, parent: str, spec: str) -> str:
    return (f"apiVersion: aiplat.dev/v1alpha1\nkind: PlatformProfile\nmetadata:\n  name: {name}\n"
            f"extends: {parent}\nspec:\n{spec}")


def _place(folder: Path, profile: str, *keys: str) -> str:
    """`profiles/<profile>.yaml:line:column` of the last key of `keys`, each searched after the
    line of the one before (`- name: gpu-l4`, then `memory:` below it)."""
    lines = (folder / f"{profile}.yaml").read_text(encoding="utf-8").splitlines()
    index = -1
    for key in keys:
        index = next(i for i in range(index + 1, len(lines)) if lines[i].lstrip().startswith(key))
    column = len(lines[index]) - len(lines[index].lstrip()) + 1
    if lines[index].lstrip().startswith("- "):
        column += 2
    return f"profiles/{profile}.yaml:{index + 1}:{column}"


def _diagnostic(result: Result, *words: str) -> str:
    found = [ln for ln in result.stderr.splitlines() if all(w in ln for w in words)]
    assert len(found) == 1, result.stderr
    return found[0]


def _validate(cli: Callable[..., Result], name: str) -> Result:
    result = cli("validate", name)
    assert result.exit_code == 1, result.output
    return result


def test_pod_resources_at_the_pools_override(profiles: Path,
                                             cli: Callable[..., Result]) -> None:
    (profiles / "canary.yaml").write_text(_child("canary", "prod", (
        "  nodePools:\n    - name: gpu-l4\n      memory: 32Gi\n")), encoding="utf-8")
    line = _diagnostic(_validate(cli, "canary"), "40Gi does not fit on a 'gpu-l4' node",
                       "models[0]")
    assert line.startswith(f"{_place(profiles, 'canary', '- name: gpu-l4', 'memory:')}: "
                           "spec.nodePools[2].memory: 40Gi does not fit"), line
    base = _place(profiles, "base", "- name: llama-8b", "resources:", "memory:")
    assert f"compared with spec.models[0].resources.memory at {base}" in line


def test_cluster_quota_at_the_pools_override(profiles: Path,
                                             cli: Callable[..., Result]) -> None:
    (profiles / "canary.yaml").write_text(_child("canary", "prod", (
        "  nodePools:\n    - name: gpu-h100\n      nodes: 1\n")), encoding="utf-8")
    line = _diagnostic(_validate(cli, "canary"), "quota of 40 GPUs exceeds the 24")
    assert line.startswith(f"{_place(profiles, 'canary', '- name: gpu-h100', 'nodes:')}: "
                           "spec.nodePools[1].nodes: quota of 40 GPUs"), line
    quota = _place(profiles, "prod", "- name: llm-serving", "gpus:")
    assert f"compared with spec.namespaces[0].quota.gpus at {quota}" in line


def test_data_quota_at_the_stores_override(profiles: Path,
                                           cli: Callable[..., Result]) -> None:
    (profiles / "canary.yaml").write_text(_child("canary", "prod", (
        "  vectorDatabases:\n    - name: weaviate\n      resources:\n        cpu: \"10\"\n")),
        encoding="utf-8")
    line = _diagnostic(_validate(cli, "canary"), "the data stores in 'rag-data'", "cpu")
    assert line.startswith(f"{_place(profiles, 'canary', 'cpu:')}: "
                           "spec.vectorDatabases[0].resources.cpu: the data stores"), line
    quota = _place(profiles, "base", "- name: rag-data", "cpu:")
    replicas = _place(profiles, "base", "- name: weaviate", "replicas:")
    assert f"compared with spec.namespaces[1].quota.cpu at {quota}" in line
    assert f"spec.vectorDatabases[0].replicas at {replicas}" in line


def test_tensor_parallel_at_the_pools_override(profiles: Path,
                                               cli: Callable[..., Result]) -> None:
    (profiles / "canary.yaml").write_text(_child("canary", "prod", (
        "  nodePools:\n    - name: gpu-h100\n      gpu:\n        count: 2\n")),
        encoding="utf-8")
    line = _diagnostic(_validate(cli, "canary"), "tensor parallel size 4 exceeds")
    assert line.startswith(f"{_place(profiles, 'canary', 'count:')}: "
                           "spec.nodePools[1].gpu.count: tensor parallel size 4"), line
    gpus = _place(profiles, "prod", "- name: llama-70b", "gpus:")
    assert f"compared with spec.models[1].gpus at {gpus}" in line


def test_autoscaling_bounds_at_the_max_override(profiles: Path,
                                                cli: Callable[..., Result]) -> None:
    (profiles / "canary.yaml").write_text(_child("canary", "prod", (
        "  models:\n    - name: llama-8b\n      autoscaling:\n        maxReplicas: 1\n"
        "        fallbackReplicas: 1\n")), encoding="utf-8")
    line = _diagnostic(_validate(cli, "canary"), "minReplicas 2 is above maxReplicas 1")
    assert line.startswith(f"{_place(profiles, 'canary', 'maxReplicas:')}: "
                           "spec.models[0].autoscaling.maxReplicas: minReplicas 2"), line
    low = _place(profiles, "prod", "- name: llama-8b", "minReplicas:")
    assert f"compared with spec.models[0].autoscaling.minReplicas at {low}" in line


def test_limit_range_at_the_default_override(profiles: Path,
                                             cli: Callable[..., Result]) -> None:
    (profiles / "canary.yaml").write_text(_child("canary", "prod", (
        "  namespaces:\n    - name: llm-serving\n      limitRange:\n"
        "        defaultMemory: 256Mi\n")), encoding="utf-8")
    line = _diagnostic(_validate(cli, "canary"), "refuses this LimitRange")
    assert line.startswith(f"{_place(profiles, 'canary', 'defaultMemory:')}: "
                           "spec.namespaces[0].limitRange.defaultMemory: the API server"), line
    request = _place(profiles, "base", "- name: llm-serving", "defaultRequestMemory:")
    assert (f"compared with spec.namespaces[0].limitRange.defaultRequestMemory at {request}"
            in line)


def test_limit_range_at_the_models_override(profiles: Path,
                                            cli: Callable[..., Result]) -> None:
    (profiles / "capped.yaml").write_text(_child("capped", "prod", (
        "  namespaces:\n    - name: llm-serving\n      limitRange:\n"
        "        maxMemory: 300Gi\n")), encoding="utf-8")
    assert cli("validate", "capped").exit_code == 0
    (profiles / "canary.yaml").write_text(_child("canary", "capped", (
        "  models:\n    - name: llama-70b\n      resources:\n        memory: 400Gi\n")),
        encoding="utf-8")
    line = _diagnostic(_validate(cli, "canary"), "above the maximum of 300Gi")
    assert line.startswith(f"{_place(profiles, 'canary', 'memory:')}: "
                           "spec.models[1].resources.memory: model 'llama-70b'"), line
    cap = _place(profiles, "capped", "maxMemory:")
    assert f"compared with spec.namespaces[0].limitRange.maxMemory at {cap}" in line
