"""Properties: mutated profiles never crash the tool or leave a partial output folder, and
rendering twice gives the same bytes."""

from __future__ import annotations

import copy
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from aiplat_gen.cli import app
from conftest import REPO
from test_fuzz_support import value_paths

PROFILES = {p.stem: yaml.safe_load(p.read_text()) for p in (REPO / "profiles").glob("*.yaml")}

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40),
    st.sampled_from(["", "latest", "1e3", "on", "0755", "2026-01-01", "-1", "../../etc",
                     "a" * 300, "ü-名前", "nvidia.com/gpu"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=12)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, Any]:
    name = draw(st.sampled_from(sorted(PROFILES)))
    doc = copy.deepcopy(PROFILES[name])
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = value_paths(doc)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "insert"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "replace":
            parent[path[-1]] = draw(values)
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=10))] = draw(values)
        else:
            parent.insert(path[-1], draw(values))
    return name, doc


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=mutated())
def test_mutated_profiles_fail_cleanly(case: tuple[str, Any]) -> None:
    name, doc = case
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(REPO / "profiles", work / "profiles")
        text = yaml.safe_dump(doc, allow_unicode=True)
        (work / "profiles" / f"{name}.yaml").write_text(text, encoding="utf-8")
        out = work / "output"
        result = CliRunner().invoke(app, ["render", name, "--profiles-dir",
                                          str(work / "profiles"), "--out", str(out)])
        assert result.exit_code in (0, 1, 2), result.output
        assert "Traceback" not in result.output
        if result.exit_code != 0:
            assert not out.exists(), "a failed render must leave no output"
        else:
            again = CliRunner().invoke(app, ["render", name, "--profiles-dir",
                                             str(work / "profiles"), "--out", str(out), "--check"])
            assert again.exit_code == 0, again.output


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=300))
def test_random_bytes_fail_cleanly(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "junk.yaml"
        path.write_bytes(data)
        result = CliRunner().invoke(app, ["validate", str(path)])
        assert result.exit_code in (1, 2), result.output
        assert "Traceback" not in result.output and "internal error" not in result.output
