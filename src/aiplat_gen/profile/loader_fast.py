"""The fast path of the profile loader: libyaml composes, ruamel decides what scalars mean.

ruamel's pure-Python round-trip parser takes 0.7 s for a 7,000-line fleet profile; libyaml (the
C parser PyYAML ships) composes the same text in under 0.1 s, with the line and column of every
node. This module uses libyaml only to split the text into nodes. The meaning of every plain
scalar (YAML 1.2: `on` is a string, `0o17` an integer) comes from ruamel's own resolver and
constructor, so a profile loads to the same values as on the ruamel path.

It covers the ordinary profile and nothing else: a document that is not plain mappings, lists
and scalars (a tag, an alias, a merge key, a duplicate key, a timestamp, a directive, a value
the ruamel path refuses, a YAML error of any kind) gives None, and the caller loads the text
with ruamel, which reports every problem in its words at its place. `tests/test_loader_fast.py`
checks that both paths build the same tree, positions included.
"""

from __future__ import annotations

import functools
from typing import Any

import yaml as libyaml
from ruamel.yaml import YAML
from ruamel.yaml.nodes import ScalarNode as RuamelScalar
from ruamel.yaml.resolver import VersionedResolver

from aiplat_gen.core.errors import Position
from aiplat_gen.profile.nodes import MAX_DEPTH, MAX_INTEGER, MAX_NODES, Node, Scalar

# The tags given to untagged nodes: anything with an explicit tag (even `!!str`, which ruamel
# keeps as a tagged value) goes to the ruamel path.
_PLAIN = "!aiplat-gen/plain"  # a plain scalar, resolved below by ruamel
_QUOTED = "!aiplat-gen/quoted"
_SEQ = "!aiplat-gen/seq"
_MAP = "!aiplat-gen/map"
_STR = "tag:yaml.org,2002:str"
_NUMBER_TAGS = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool"}
_LONGEST_NUMBER = 4000  # digits; longer numbers are refused by the ruamel path's pre-scan
# YAML 1.1 (libyaml) breaks lines at these, YAML 1.2 (ruamel) does not.
_BREAKS_11_ONLY = ("\x85", "\u2028", "\u2029")


class _Fallback(Exception):
    """The text is not an ordinary profile: load it with ruamel."""


class _Composer(libyaml.CSafeLoader):
    """libyaml's composer, marking untagged nodes and leaving plain scalars unresolved for
    ruamel's YAML 1.2 resolver."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is libyaml.ScalarNode:
            return _PLAIN if implicit[0] else _QUOTED
        return _SEQ if kind is libyaml.SequenceNode else _MAP


class _Meaning:
    """ruamel's resolver and constructor for plain scalars (cached per distinct text)."""

    def __init__(self) -> None:
        self.resolver = VersionedResolver()
        self.constructor = YAML(typ="rt").constructor
        self.cache: dict[str, Scalar] = {}

    def scalar(self, text: str) -> Scalar:
        if text in self.cache:
            return self.cache[text]
        tag = str(self.resolver.resolve(RuamelScalar, text, (True, False)))
        value: Scalar
        if tag == _STR:
            value = text
        elif tag == "tag:yaml.org,2002:null":
            value = None
        elif tag in _NUMBER_TAGS and len(text) <= _LONGEST_NUMBER:
            try:
                raw = self.constructor.construct_object(RuamelScalar(tag, text), deep=True)
            except Exception:  # e.g. `._` resolves as a float that does not convert
                raise _Fallback from None
            if type(raw).__name__ == "ScalarBoolean" or isinstance(raw, bool):
                value = bool(raw)
            elif isinstance(raw, int):
                if abs(raw) > MAX_INTEGER:
                    raise _Fallback
                value = int(raw)
            elif isinstance(raw, float):
                value = float(raw)
            else:
                raise _Fallback
        else:  # a timestamp, a merge key `<<`, `=`: ruamel's path knows what to do
            raise _Fallback
        self.cache[text] = value
        return value


@functools.cache
def _meaning() -> _Meaning:
    return _Meaning()


def compose(shown: str, text: str) -> Node | None:
    """The profile's Node tree, or None when the ruamel path must load it."""
    if text.startswith("%") or "\n%" in text or any(ch in text for ch in _BREAKS_11_ONLY):
        return None  # directives, or line breaks YAML 1.1 and 1.2 count differently
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        return None
    try:
        root = libyaml.compose(text, Loader=_Composer)
    except (libyaml.YAMLError, RecursionError, ValueError):
        return None
    if not isinstance(root, libyaml.MappingNode) or root.tag != _MAP:
        return None
    walker = _Walker(shown, _meaning())
    try:
        return walker.node(root, Position(shown, 1, 1), 0)
    except _Fallback:
        return None


class _Walker:
    """Turns libyaml nodes into Nodes; anything out of the ordinary raises _Fallback."""

    def __init__(self, shown: str, meaning: _Meaning) -> None:
        self.shown = shown
        self.meaning = meaning
        self.count = 0
        self.seen: set[int] = set()

    def node(self, raw: libyaml.Node, pos: Position, depth: int) -> Node:
        self.count += 1
        if self.count > MAX_NODES or depth > MAX_DEPTH or id(raw) in self.seen:
            raise _Fallback  # too big, too deep, or an alias
        self.seen.add(id(raw))
        if isinstance(raw, libyaml.ScalarNode):
            return Node(self.scalar(raw), pos)
        if isinstance(raw, libyaml.SequenceNode) and raw.tag == _SEQ:
            return Node([self.node(item, self.place(item), depth + 1) for item in raw.value], pos)
        if isinstance(raw, libyaml.MappingNode) and raw.tag == _MAP:
            result: dict[str, Node] = {}
            for key_node, value_node in raw.value:
                if not isinstance(key_node, libyaml.ScalarNode) or id(key_node) in self.seen:
                    raise _Fallback
                key = self.scalar(key_node)
                if not isinstance(key, str) or key in result or (
                        key == "<<" and key_node.tag == _PLAIN):
                    raise _Fallback  # not a string, a duplicate, or a merge key
                self.seen.add(id(key_node))
                result[key] = self.node(value_node, self.place(key_node), depth + 1)
            return Node(result, pos)
        raise _Fallback  # an explicit tag

    def scalar(self, raw: libyaml.ScalarNode) -> Scalar:
        if raw.tag == _QUOTED:
            value: Scalar = raw.value
        elif raw.tag == _PLAIN:
            value = self.meaning.scalar(raw.value)
        else:
            raise _Fallback
        if isinstance(value, str) and not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate: the ruamel path says where
                raise _Fallback from None
        return value

    def place(self, raw: libyaml.Node) -> Position:
        mark = raw.start_mark
        return Position(self.shown, mark.line + 1, mark.column + 1)
