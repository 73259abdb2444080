"""Deterministic YAML output: one dumper for every file the tool writes.

PyYAML's C emitter is fast; the representer below quotes every string that a YAML 1.1 or 1.2
reader could take for another type (`on`, `0755`, `1e3`, `2026-01-01`), so Kubernetes, kustomize
and Helm read the same strings the profile meant.

Rendered objects are plain trees (dict, list, str, int, bool, None): `dump` turns them straight
into emitter events, the very events PyYAML's serializer makes from `Dumper`'s nodes, without
building the nodes or asking the resolver about every scalar twice (three quarters of the dump
time). Anything else (a float, a tuple, a container met twice, which PyYAML writes with an
anchor) goes through `Dumper` itself, so the output is the same either way.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable
from typing import Any

import yaml
from yaml.events import (
    DocumentEndEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from yaml.resolver import Resolver

try:
    from yaml import CSafeDumper as _BaseDumper
    from yaml import CSafeLoader as SafeLoader
    from yaml._yaml import CEmitter as _Emitter
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml import SafeDumper as _BaseDumper  # type: ignore[assignment]
    from yaml import SafeLoader  # type: ignore[assignment]
    from yaml.emitter import Emitter as _Emitter  # type: ignore[assignment]

# YAML 1.2 core schema numbers that YAML 1.1 (PyYAML's resolver) would not see as numbers,
# and 1.1 sexagesimal/octal forms Go's YAML readers still honour.
_AMBIGUOUS = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
    r"|[0-9]+(?::[0-5]?[0-9])+(?:\.[0-9_]*)?"
    r"|[yYnN]|[yY]es|YES|[nN]o|NO|[oO]n|ON|[oO]ff|OFF|[tT]rue|TRUE|[fF]alse|FALSE"
    r"|~|[nN]ull|NULL)$"
)

_STR = "tag:yaml.org,2002:str"
_WIDTH = 4096  # long values stay on one line


class Dumper(_BaseDumper):
    """Block-style, insertion-ordered, quoting every type-ambiguous string."""


def _str_style(data: str) -> str | None:
    if "\n" in data:
        return "|"
    if _AMBIGUOUS.match(data):
        return '"'
    return None


def _represent_str(dumper: Dumper, data: str) -> yaml.Node:
    return dumper.represent_scalar(_STR, data, style=_str_style(data))


Dumper.add_representer(str, _represent_str)


def dump(data: Any) -> str:
    """One YAML document, block style, keys in insertion order."""
    return _dump([data], explicit_start=False)


def dump_all(documents: list[Any]) -> str:
    """Several documents separated by `---`."""
    return _dump(documents, explicit_start=True)


class _NotPlain(Exception):
    """The document holds something only the full `Dumper` writes as PyYAML would."""


def _dump(documents: list[Any], explicit_start: bool) -> str:
    stream = io.StringIO()
    emit = _Emitter(stream, width=_WIDTH, allow_unicode=True).emit
    try:
        emit(StreamStartEvent())
        for data in documents:
            emit(DocumentStartEvent(explicit=explicit_start))
            _emit_node(data, emit, set())
            emit(DocumentEndEvent(explicit=False))
        emit(StreamEndEvent())
    except _NotPlain:
        return yaml.dump_all(documents, Dumper=Dumper, sort_keys=False, default_flow_style=False,
                             allow_unicode=True, width=_WIDTH, explicit_start=explicit_start)
    return stream.getvalue()


_MAPPING_START = MappingStartEvent(None, "tag:yaml.org,2002:map", True, flow_style=False)
_SEQUENCE_START = SequenceStartEvent(None, "tag:yaml.org,2002:seq", True, flow_style=False)
_MAPPING_END = MappingEndEvent()
_SEQUENCE_END = SequenceEndEvent()


def _emit_node(data: Any, emit: Callable[[Event], None], containers: set[int]) -> None:
    """Emit the events PyYAML's serializer emits for `Dumper`'s node of data."""
    kind = type(data)
    if kind is str:
        emit(_scalar(_STR, data))
    elif kind is dict or kind is list:
        if id(data) in containers:
            raise _NotPlain
        containers.add(id(data))
        if kind is dict:
            emit(_MAPPING_START)
            for key, value in data.items():
                _emit_node(key, emit, containers)
                _emit_node(value, emit, containers)
            emit(_MAPPING_END)
        else:
            emit(_SEQUENCE_START)
            for item in data:
                _emit_node(item, emit, containers)
            emit(_SEQUENCE_END)
    elif kind is bool:
        emit(_scalar("tag:yaml.org,2002:bool", "true" if data else "false"))
    elif kind is int:
        emit(_scalar("tag:yaml.org,2002:int", str(data)))
    elif data is None:
        emit(_scalar("tag:yaml.org,2002:null", "null"))
    else:
        raise _NotPlain


# How `Dumper` resolves tags (it adds no resolvers of its own).
_resolve: Callable[[type[yaml.Node], str, tuple[bool, bool]], str] = Resolver().resolve


@functools.lru_cache(maxsize=1 << 16)
def _scalar(tag: str, value: str) -> ScalarEvent:
    """A scalar's event as the serializer makes it from the representer's node. The implicit
    flags say whether the value reads as its tag when plain and when quoted (quoted scalars read
    as strings). The emitter only reads events, and most values recur in many files: one event
    per value."""
    plain_tag = _resolve(yaml.ScalarNode, value, (True, False))
    return ScalarEvent(None, tag, (plain_tag == tag, tag == _STR), value,
                       style=_str_style(value) if tag == _STR else None)


class Loader(SafeLoader):
    """The C loader, reading the scalars `=` and `<<` as strings: kustomize writes them unquoted
    when it re-encodes a patched object, and YAML 1.1's value and merge types have no
    constructor. `<<` as a key still merges."""


for _tag in ("tag:yaml.org,2002:value", "tag:yaml.org,2002:merge"):
    Loader.add_constructor(_tag, Loader.construct_yaml_str)  # type: ignore[type-var]


def load_all(text: str) -> list[Any]:
    """Parse the YAML documents in text (C loader; no positions needed here)."""
    return [d for d in yaml.load_all(text, Loader=Loader) if d is not None]
