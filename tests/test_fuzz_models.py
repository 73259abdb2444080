"""Fuzzing the models, checks and components with values the schema accepts.

`test_properties.py` replaces profile values with random data, which the schema mostly refuses
at once. Here each replacement is drawn from the profile's own JSON schema (the pydantic
models'): names matching the DNS patterns (`0755`, `on`, `1e3`), quantities such as `1Ei` or
`9e18`, integers at their bounds, empty and one-item lists, optional sections present or null.
Such values pass the schema and reach the cross-layer checks, the components, the layout and the
writer, where a crash would hide. Each render must end in exit 0 with a tree that `--check`
confirms and that parses, or in a located error with nothing written.
"""

from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from aiplat_gen.profile.schema.profile import Profile
from test_fuzz_support import PROFILE_TEXTS, assert_clean, run, value_paths

SCHEMA = Profile.model_json_schema(by_alias=True)
DOCS = {name: YAML(typ="safe", pure=True).load(text) for name, text in PROFILE_TEXTS.items()}
# Strings that YAML 1.1 or 1.2 readers take for other types, offered wherever a pattern allows.
TRICKY = ["on", "off", "yes", "no", "y", "n", "null", "true", "0755", "0x1f", "1e3", "1_000",
          "2026-01-01", "12:30", "~", ".inf", "-.nan", "+1", "0o17", "1Ei", "1E", "9e18", "0",
          "a", "a" * 63, "a" * 253]
INT_LIMIT = 2**63 - 1  # larger integers are the loader's to refuse (see the report)


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = SCHEMA["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def subschema(path: tuple[str | int, ...]) -> dict[str, Any] | None:
    """The schema of the value at path (list indexes and map keys included), if there is one."""
    node = _resolve(SCHEMA)
    for part in path:
        if "anyOf" in node:
            node = next((_resolve(n) for n in node["anyOf"] if n.get("type") != "null"), {})
        if isinstance(part, int):
            child = node.get("items")
        elif part in node.get("properties", {}):
            child = node["properties"][part]
        else:
            child = node.get("additionalProperties")
        if not isinstance(child, dict):
            return None
        node = _resolve(child)
    return node


def _string(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    low, high = schema.get("minLength", 0), min(schema.get("maxLength", 40), 300)
    pattern = schema.get("pattern")

    def fits(text: str) -> bool:
        return low <= len(text) <= schema.get("maxLength", 10**9) and (
            pattern is None or re.search(pattern, text) is not None)

    tricky = [s for s in TRICKY if fits(s)]
    drawn = (st.from_regex(pattern, fullmatch=True) if pattern else st.text(
        min_size=low, max_size=high)).filter(fits)
    return st.one_of(st.sampled_from(tricky), drawn) if tricky else drawn


def values_for(schema: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """A strategy for values the schema accepts (pydantic's validators may still refuse some,
    e.g. cross-field rules: that is part of the test)."""
    schema = _resolve(schema)
    if "anyOf" in schema:
        return st.one_of([values_for(option, depth) for option in schema["anyOf"]])
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "string":
        return _string(schema)
    if kind == "integer":
        low = schema.get("minimum", schema.get("exclusiveMinimum", -INT_LIMIT - 1) + 1)
        high = schema.get("maximum", schema.get("exclusiveMaximum", INT_LIMIT + 1) - 1)
        return st.one_of(st.sampled_from(sorted({low, high, max(low, min(high, 0))})),
                         st.integers(low, high))
    if kind == "number":
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        high = schema.get("maximum", schema.get("exclusiveMaximum"))
        return st.floats(low, high, allow_nan=False, allow_infinity=low is None or high is None,
                         exclude_min="exclusiveMinimum" in schema,
                         exclude_max="exclusiveMaximum" in schema)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        least = schema.get("minItems", 0)
        return st.lists(values_for(schema.get("items", {}), depth + 1), min_size=least,
                        max_size=max(least, 2 if depth < 4 else 0))
    if kind == "object":
        return _object(schema, depth)
    return st.nothing()


@st.composite
def _object(draw: st.DrawFn, schema: dict[str, Any], depth: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    required = set(schema.get("required", []))
    for key, sub in schema.get("properties", {}).items():
        if key in required or (depth < 3 and draw(st.integers(0, 3)) == 0):
            result[key] = draw(values_for(sub, depth + 1))
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict) and depth < 4:
        names = schema.get("propertyNames", {"type": "string", "maxLength": 12})
        for _ in range(draw(st.integers(0, 2))):
            result[draw(values_for(names, depth + 1))] = draw(values_for(extra, depth + 1))
    return result


@st.composite
def schema_mutation(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A profile (the root `base`, or `prod` over it) with one to three values replaced by
    schema-valid ones, or (in `prod`) removed by an explicit null."""
    name = draw(st.sampled_from(["base", "prod"]))
    doc = json.loads(json.dumps(DOCS[name]))
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in value_paths(doc) if p[0] == "spec" and subschema(p) is not None]
        path = draw(st.sampled_from(paths))
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        if name == "prod" and isinstance(parent, dict) and draw(st.integers(0, 4)) == 0:
            parent[path[-1]] = None  # the merge rule: null removes the inherited value
        else:
            schema = subschema(path)
            assert schema is not None
            parent[path[-1]] = draw(values_for(schema))
    return name, doc


_WORKSPACE: dict[str, Path] = {}


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.data_too_large])
@given(case=schema_mutation(), seed=st.integers(0, 2**16))
def test_schema_valid_values_render_cleanly(case: tuple[str, dict[str, Any]], seed: int,
                                            tmp_path_factory: pytest.TempPathFactory) -> None:
    name, doc = case
    # One folder for every example (the unchanged parent keeps its path, so it stays parsed),
    # holding only the chain of the profile: `render` renders (and summarises) just these.
    if "models" not in _WORKSPACE:
        _WORKSPACE["models"] = tmp_path_factory.mktemp("models")
    folder = _WORKSPACE["models"]
    profiles = folder / "profiles"
    shutil.rmtree(profiles, ignore_errors=True)
    shutil.rmtree(folder / "output", ignore_errors=True)
    profiles.mkdir()
    for stem in {"base", name}:
        text = json.dumps(doc, indent=random.Random(seed).choice([None, 2]), ensure_ascii=False
                          ) if stem == name else PROFILE_TEXTS[stem]
        (profiles / f"{stem}.yaml").write_text(text, encoding="utf-8")
    out = folder / "output"
    result = run("render", name, "--profiles-dir", str(profiles), "--out", str(out),
                 seconds=10.0)
    assert_clean(result, Path.cwd(), out)
    event(f"{name}: exit {result.exit_code}")
    if result.exit_code != 0:
        return
    again = run("render", name, "--profiles-dir", str(profiles), "--out", str(out), "--check")
    assert again.exit_code == 0, again.output
    for path in sorted(out.rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if isinstance(document, dict) and "kind" in document and "metadata" in document:
                assert isinstance(document["metadata"]["name"], str), path
                assert isinstance(document["kind"], str) and isinstance(
                    document["apiVersion"], str), path


# Schema-valid values that crashed a render before (found by the fuzzing above), kept as fixed
# cases: (profile, path, value).
EDGE_VALUES = [
    ("base", ("spec", "nodePools", 1, "cpu"), "+.0"),  # `+` sign: Karpenter limits
    ("base", ("spec", "nodePools", 1, "memory"), "1Ei"),
    ("base", ("spec", "models", 0, "resources", "shmSize"), "1E"),  # exa, not an exponent
    ("base", ("spec", "models", 0, "resources", "memory"), "9e18"),
    ("base", ("spec", "namespaces", 0, "quota", "memory"), "1e-999999"),
    ("prod", ("spec", "models", 1, "storage", "size"), "+1e3"),
]


@pytest.mark.parametrize(("name", "path", "value"), EDGE_VALUES,
                         ids=[f"{p[-1]}={v}" for _, p, v in EDGE_VALUES])
def test_edge_values_render_cleanly(name: str, path: tuple[str | int, ...], value: str,
                                    tmp_path: Path) -> None:
    doc = json.loads(json.dumps(DOCS[name]))
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    for stem in {"base", name}:
        text = json.dumps(doc) if stem == name else PROFILE_TEXTS[stem]
        (profiles / f"{stem}.yaml").write_text(text, encoding="utf-8")
    out = tmp_path / "output"
    result = run("render", name, "--profiles-dir", str(profiles), "--out", str(out))
    assert_clean(result, Path.cwd(), out)
