"""Diagnostics a new user reads (issue 17): an inherited relation is placed at the child's
override and names the profile chain; a parent's bad value is reported once for every child;
JSON and GitHub formats carry the profile; long lists in messages are capped."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from aiplat_gen.core.hints import listed

CANARY = """apiVersion: aiplat.dev/v1alpha1
kind: PlatformProfile
metadata:
  name: canary
extends: prod
spec:
  models:
    - name: llama-8b
      autoscaling:
        maxReplicas: 30
"""


@pytest.fixture
def profiles(workspace: Path) -> Path:
    """The example profiles in a temporary current folder (conftest's `workspace`)."""
    return workspace / "profiles"


def _errors(result: Result) -> list[str]:
    return [ln for ln in result.stderr.splitlines()
            if not ln.startswith("aiplat-gen:") and ": warning: " not in ln]


def test_relation_is_placed_at_the_childs_override(profiles: Path,
                                                   cli: Callable[..., Result]) -> None:
    (profiles / "canary.yaml").write_text(CANARY, encoding="utf-8")
    result = cli("validate", "canary")
    assert result.exit_code == 1, result.output
    quota = next(ln for ln in _errors(result) if "quota allows" in ln)
    assert quota.startswith("profiles/canary.yaml:10:9: spec.models[0].autoscaling.maxReplicas:")
    assert "compared with spec.namespaces[0].quota.gpus at profiles/prod.yaml:21:9" in quota
    assert quota.endswith("[profile canary (base -> prod -> canary)]")
    assert all("[profile canary (base -> prod -> canary)]" in ln for ln in _errors(result))


def test_a_parents_bad_value_is_reported_once(profiles: Path,
                                              cli: Callable[..., Result]) -> None:
    base = profiles / "base.yaml"
    text = base.read_text(encoding="utf-8")
    base.write_text(text.replace("gpuMemoryUtilization: 0.9", "gpuMemoryUtilization: 1.5", 1),
                    encoding="utf-8")
    result = cli("validate", "dev", "prod", "staging")
    assert result.exit_code == 1, result.output
    (line,) = _errors(result)
    assert line.startswith("profiles/base.yaml:")
    assert line.endswith("[profiles dev (base -> dev), prod (base -> prod), "
                         "staging (base -> staging)]")


def test_json_and_github_carry_the_profile(profiles: Path, cli: Callable[..., Result]) -> None:
    (profiles / "canary.yaml").write_text(CANARY, encoding="utf-8")
    result = cli("validate", "canary", "--format", "json")
    assert result.exit_code == 1, result.output
    payload = json.loads(result.stderr[: result.stderr.rindex("]") + 1])
    assert {d["file"] for d in payload if d["severity"] == "error"} == {"profiles/canary.yaml"}
    assert all(d["profiles"] == [{"name": "canary", "chain": ["base", "prod", "canary"]}]
               for d in payload)
    github = cli("validate", "canary", "--format", "github")
    errors = [ln for ln in github.stderr.splitlines() if ln.startswith("::error ")]
    assert errors and all(ln.endswith("[profile canary (base -> prod -> canary)]")
                          for ln in errors)


def test_misspelled_extends_is_one_error(profiles: Path, cli: Callable[..., Result]) -> None:
    (profiles / "canary.yaml").write_text(CANARY.replace("extends:", "extend:"),
                                          encoding="utf-8")
    result = cli("validate", "canary")
    assert result.exit_code == 1, result.output
    assert _errors(result) == [
        "profiles/canary.yaml:5:1: extend: unknown key 'extend' (did you mean 'extends'? "
        "allowed: apiVersion, extends, kind, metadata, spec) [profile canary]"]


def test_long_lists_are_capped() -> None:
    names = [f"model-{i}" for i in range(200)]
    assert listed(names) == ", ".join(names[:8]) + " ... and 192 more"
    assert listed(names[:8]) == ", ".join(names[:8])


def test_capacity_message_caps_the_models(profiles: Path, cli: Callable[..., Result]) -> None:
    # 20 more models on the example's L4 pool: the pool and quota messages list them all
    dev = profiles / "dev.yaml"
    extra = "".join(
        f"    - name: copy-{i}\n      engine: vllm\n      namespace: llm-serving\n"
        f"      nodePool: gpu-l4\n      source:\n        uri: hf://meta-llama/Llama-3.1-8B-Instruct\n"
        f"        revision: 0e9e39f249a16976918f6564b8830bc894c89659\n"
        f"        sha256: \"{'0' * 64}\"\n      architecture: llama-3.1-8b\n"
        f"      image: vllm/vllm-openai:v0.11.0\n      gpus: 1\n      replicas: 1\n"
        f"      resources:\n        cpu: \"4\"\n        memory: 32Gi\n"
        for i in range(20))
    text = dev.read_text(encoding="utf-8")
    dev.write_text(text.replace("  models:\n", "  models:\n" + extra, 1), encoding="utf-8")
    result = cli("validate", "dev")
    assert result.exit_code == 1, result.output
    capped = [ln for ln in _errors(result) if "more (" in ln or "more;" in ln]
    assert capped, result.stderr
    assert all(ln.count("copy-") <= 8 for ln in _errors(result))
