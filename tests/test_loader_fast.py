"""The loader's fast path (libyaml composes) must build exactly the tree the ruamel path builds.

`loader_fast.compose` either returns the same Node tree as `loader.parse_ruamel` (values, types
and every line and column) or gives up (None) and leaves the text to ruamel. It must never accept
a text that ruamel refuses. Checked on every profile in the repository, on hostile texts, and on
random documents built from the scalars where YAML 1.1 and 1.2 disagree.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiplat_gen.core.errors import ProfileError
from aiplat_gen.profile import loader
from aiplat_gen.profile.loader import parse_ruamel
from aiplat_gen.profile.loader_fast import compose
from aiplat_gen.profile.nodes import Node
from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
from fleet import write_fleet  # noqa: E402

PROFILES = sorted({*REPO.glob("profiles/*.yaml"), *REPO.glob("tests/golden/*/profiles/*.yaml"),
                   *REPO.glob("tests/profiles/*/*.yaml"), *REPO.glob("tests/profiles/*/*/*.yaml")})

# Plain scalars that YAML 1.1 (libyaml's resolver) and YAML 1.2 (ruamel's) read differently,
# and others worth comparing.
SCALARS = ["on", "off", "yes", "No", "y", "true", "False", "TRUE", "null", "Null", "~", "",
           "0755", "0o17", "0x1F", "0b101", "1_000", "+12", "-0", "12:30", "190:20:30", "1e3",
           "1E3", "1.5e+3", ".5", "-.inf", ".NaN", "+.inf", "1.", "2026-01-01",
           "2026-01-01T10:00:00Z", "=", "<<", "9223372036854775807", "9223372036854775808",
           "1" * 30, "a b", "x: y", "-", "?", "é", "\U0001F916", "0.1.2", "0x", "._"]
WORDS = st.sampled_from(SCALARS) | st.text(
    st.characters(codec="utf-8", exclude_characters="\t\r\n"), max_size=8)


def both(text: str) -> tuple[Node | ProfileError, Node | None]:
    try:
        slow: Node | ProfileError = parse_ruamel("p.yaml", text)
    except ProfileError as exc:
        slow = exc
    return slow, compose("p.yaml", text)


def same(a: Node, b: Node) -> bool:
    """Equal trees: positions, and values of the same type (NaN equals NaN)."""
    if a.pos != b.pos or type(a.value) is not type(b.value):
        return False
    if isinstance(a.value, dict):
        assert isinstance(b.value, dict)
        return list(a.value) == list(b.value) and all(
            same(a.value[k], b.value[k]) for k in a.value)
    if isinstance(a.value, list):
        assert isinstance(b.value, list)
        return len(a.value) == len(b.value) and all(map(same, a.value, b.value))
    if isinstance(a.value, float) and isinstance(b.value, float) and math.isnan(a.value):
        return math.isnan(b.value)
    return a.value == b.value


def assert_agree(text: str) -> bool:
    """The fast path's tree equals ruamel's, or it gave up; True when it took the text."""
    slow, fast = both(text)
    if fast is None:
        return False
    assert not isinstance(slow, ProfileError), f"fast path took a text ruamel refuses: {slow}"
    assert same(slow, fast), text
    return True


@pytest.mark.parametrize("path", PROFILES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_profile_in_the_repository(path: Path) -> None:
    try:
        text = loader.read_text(path, "p.yaml")
    except ProfileError:
        return  # refused before parsing (binary, tabs, empty): no path involved
    assert_agree(text)


def test_the_example_profiles_take_the_fast_path() -> None:
    for path in REPO.glob("profiles/*.yaml"):
        assert assert_agree(path.read_text(encoding="utf-8")), path


def test_a_fleet_profile_takes_the_fast_path(tmp_path: Path) -> None:
    write_fleet(tmp_path, 20)
    for path in (tmp_path / "profiles").glob("*.yaml"):
        assert assert_agree(path.read_text(encoding="utf-8")), path


@pytest.mark.parametrize("text", [
    "a: 1\na: 2\n", "a: &x 1\nb: *x\n", "a: !!int 1\n", "a: !local 1\n", "a: !!str\n",
    "a: !!str x\n", "a: !!map {b: 1}\n", "a: !!seq [b]\n", "a:\n  <<: {b: 1}\n",
    "a: 2026-01-01\n", "%YAML 1.1\n---\na: on\n", "a: 1\u2028b: 2\n", "a: 1\rb: 2\n",
    "? [a]\n: 1\n", "1: a\n", "a: " + "9" * 5000 + "\n", "a: " + "[" * 70 + "]" * 70 + "\n",
    'a: "\\ud800"\n', "a: 9223372036854775808\n", "- a\n", "a\n", "a: 1\n---\nb: 2\n",
])
def test_what_the_fast_path_leaves_to_ruamel(text: str) -> None:
    assert compose("p.yaml", text) is None


def _render(value: Any, indent: int, flow: bool) -> str:
    if isinstance(value, dict):
        if flow or not value:
            return "{" + ", ".join(f"{k}: {_render(v, 0, True)}" for k, v in value.items()) + "}"
        pad = " " * indent
        return "".join(f"\n{pad}{k}:" + (" " if not isinstance(v, dict | list) or not v else "")
                       + _render(v, indent + 2, False) for k, v in value.items())
    if isinstance(value, list):
        if flow or not value:
            return "[" + ", ".join(_render(v, 0, True) for v in value) + "]"
        pad = " " * indent
        return "".join(f"\n{pad}- " + _render(v, indent + 2, True) for v in value)
    return str(value)


def _quoted(word: str, style: int) -> str:
    if style >= 3:  # an explicit tag, core or non-specific, on any of the styles
        return ("!!str ", "! ", "!!int ")[style - 3] + _quoted(word, style % 3)
    if style == 1:
        return "'" + word.replace("'", "''") + "'"
    if style == 2:
        return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return word


SCALAR = st.builds(_quoted, WORDS, st.integers(0, 5))
KEY = st.builds(_quoted, st.sampled_from(["a", "b", "name", "on", "1", "~", "<<", "x y", "é"]),
                st.integers(0, 2))
TREE = st.recursive(SCALAR, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(KEY, inner, max_size=3), max_leaves=12)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(KEY, TREE, min_size=1, max_size=4), st.booleans())
def test_random_documents_agree(document: dict[str, Any], flow: bool) -> None:
    assert_agree(_render(document, 0, flow).lstrip("\n") + "\n")


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(REPO.glob("profiles/*.yaml"))), st.integers(0, 10_000),
       st.integers(0, 3), st.sampled_from([" ", "-", ":", "'", '"', "#", "[", "{", "&a ", "*a",
                                           "!!", "\n", "\n  ", "? ", "|", ">", "%", "@", ","])
       | st.text(st.characters(codec="utf-8", exclude_characters="\t\x00"), max_size=3))
def test_mutated_examples_agree(path: Path, where: int, cut: int, insert: str) -> None:
    """Tabs and NUL are refused before parsing (`read_text`), so they are not inserted."""
    text = path.read_text(encoding="utf-8")
    where %= len(text)
    assert_agree(text[:where] + insert + text[where + cut:])
