"""Deterministic YAML output: one dumper for every file the tool writes.

PyYAML's C emitter is fast; the representer below quotes every string that a YAML 1.1 or 1.2
reader could take for another type (`on`, `0755`, `1e3`, `2026-01-01`), so Kubernetes, kustomize
and Helm read the same strings the profile meant.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

try:
    from yaml import CSafeDumper as _BaseDumper
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml import SafeDumper as _BaseDumper  # type: ignore[assignment]
    from yaml import SafeLoader  # type: ignore[assignment]

# YAML 1.2 core schema numbers that YAML 1.1 (PyYAML's resolver) would not see as numbers,
# and 1.1 sexagesimal/octal forms Go's YAML readers still honour.
_AMBIGUOUS = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
    r"|[0-9]+(?::[0-5]?[0-9])+(?:\.[0-9_]*)?"
    r"|[yYnN]|[yY]es|YES|[nN]o|NO|[oO]n|ON|[oO]ff|OFF|[tT]rue|TRUE|[fF]alse|FALSE"
    r"|~|[nN]ull|NULL)$"
)


class Dumper(_BaseDumper):
    """Block-style, insertion-ordered, quoting every type-ambiguous string."""


def _represent_str(dumper: Dumper, data: str) -> yaml.Node:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    if _AMBIGUOUS.match(data):
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"')
    return dumper.represent_str(data)


Dumper.add_representer(str, _represent_str)


def dump(data: Any) -> str:
    """One YAML document, block style, keys in insertion order."""
    return yaml.dump(data, Dumper=Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=4096)


def dump_all(documents: list[Any]) -> str:
    """Several documents separated by `---`."""
    return yaml.dump_all(documents, Dumper=Dumper, sort_keys=False, default_flow_style=False,
                         allow_unicode=True, width=4096, explicit_start=True)


class Loader(SafeLoader):
    """The C loader, reading the scalars `=` and `<<` as strings: kustomize writes them unquoted
    when it re-encodes a patched object, and YAML 1.1's value and merge types have no
    constructor. `<<` as a key still merges."""


for _tag in ("tag:yaml.org,2002:value", "tag:yaml.org,2002:merge"):
    Loader.add_constructor(_tag, Loader.construct_yaml_str)  # type: ignore[type-var]


def load_all(text: str) -> list[Any]:
    """Parse the YAML documents in text (C loader; no positions needed here)."""
    return [d for d in yaml.load_all(text, Loader=Loader) if d is not None]
