"""The render's fast paths give exactly what the plain library calls they replace give.

`yamlio.dump` and `dump_all` feed emitter events straight from the objects; they must write the
bytes PyYAML's own `Dumper` writes (representer, serializer, C emitter), for every rendered
object and for random trees with everything that makes YAML hard (ambiguous strings, unicode,
line breaks, long values, floats, tuples, non-string keys, a container met twice).
`templating._fresh` must copy a slot value as `json.loads(json.dumps(value))` does.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiplat_gen.checks.validate import validate_file
from aiplat_gen.core import yamlio
from aiplat_gen.render import templating
from aiplat_gen.render.components.base import Placed, RenderContext
from aiplat_gen.render.pipeline import render_full
from conftest import REPO

SCALARS = ["", " ", "on", "No", "y", "0755", "0o17", "0x1F", "1e3", "1_000", "12:30", ".inf",
           "~", "null", "2026-01-01", "2026-01-01T10:00:00Z", "=", "<<", "- x", "a: b", "x #c",
           "'q'", '"q"', "a\nb", "a\n", "\n", "trailing ", " leading", "\t", "\x85", "\u2028",
           "\ufeff", "é", "\U0001F916", "\x00", "\x7f", "!tag", "&a", "*a", "%x", "@x", "{a}",
           "a\r\nb", "a  \n  b  \n", "x" * 5000, "ab " * 2000]
TEXT = st.sampled_from(SCALARS) | st.text(max_size=12)
LEAVES = (TEXT | st.integers(min_value=-10**30, max_value=10**30) | st.booleans() | st.none()
          | st.floats())
KEYS = TEXT | st.integers() | st.booleans() | st.none()
TREES = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(KEYS, inner, max_size=4) | st.tuples(inner),
                     max_leaves=30)


def _pyyaml(documents: list[Any], explicit_start: bool) -> str:
    return yaml.dump_all(documents, Dumper=yamlio.Dumper, sort_keys=False,
                         default_flow_style=False, allow_unicode=True, width=4096,
                         explicit_start=explicit_start)


def _same_dump(data: Any) -> None:
    assert yamlio.dump(data) == _pyyaml([data], explicit_start=False)
    assert yamlio.dump_all([data, data]) == _pyyaml([data, data], explicit_start=True)


@pytest.mark.parametrize("profile", ["base", "prod"])
def test_dump_of_every_rendered_object(profile: str) -> None:
    vp = validate_file(REPO / "profiles" / f"{profile}.yaml")
    render = render_full(RenderContext(vp.profile))
    for obj in render.objects:
        _same_dump(obj.obj)
    for values in render.helm_values.values():
        _same_dump(values)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(TREES)
def test_dump_of_random_trees(data: Any) -> None:
    _same_dump(data)


def test_dump_of_shared_and_unsupported_values() -> None:
    shared = {"a": [1]}
    for data in ({"x": shared, "y": shared}, [shared, {"z": shared}], {"k": (1, "t")},
                 {"f": [1.5, -0.0, math.inf]}, {"s": {1, 2}}, [], {}, [[]], None, "on", 7, True):
        _same_dump(data)
    assert yamlio.dump_all([]) == _pyyaml([], explicit_start=True)
    with pytest.raises(yaml.representer.RepresenterError):
        yamlio.dump({"object": object()})


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.recursive(LEAVES.filter(lambda x: not (isinstance(x, float) and math.isnan(x))),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(KEYS, inner, max_size=4) | st.tuples(inner),
                    max_leaves=30))
def test_fresh_copies_like_json(value: Any) -> None:
    _same_copy(value)


def test_fresh_of_placed_strings_and_enums() -> None:
    for value in ({"a": Placed("on")}, [Placed("x")], {Placed("k"): 1}, {1: "a", None: True}):
        _same_copy(value)
    assert type(templating._fresh([Placed("x")])[0]) is str


def _same_copy(value: Any) -> None:
    copied = templating._fresh(value)
    expected = json.loads(json.dumps(value, ensure_ascii=False))
    assert copied == expected
    assert json.dumps(copied) == json.dumps(expected)  # also tells True from 1
    assert not _containers(copied) & _containers(value)


def _containers(value: Any) -> set[int]:
    found = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict | list | tuple):
            found.add(id(item))
            stack.extend(item.values() if isinstance(item, dict) else item)
    return found
