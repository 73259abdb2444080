"""Load profile files safely into a tree that remembers where every value came from.

The loader is the only place that touches raw YAML. It uses ruamel.yaml's round-trip loader (YAML
1.2, plain types only, nothing executable) because it keeps line and column numbers, and it refuses
what a profile never needs: duplicate keys, tabs, tags, alias bombs, huge or binary files.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from aiplat_gen.errors import Diagnostic, Position, ProfileError

MAX_FILE_BYTES = 1024 * 1024
MAX_NODES = 100_000
MAX_DEPTH = 64

Scalar = str | int | float | bool | None


@dataclass
class Node:
    """A YAML value (mapping of Nodes, list of Nodes, or scalar) with the place it was written."""

    value: dict[str, Node] | list[Node] | Scalar
    pos: Position


def display_path(path: Path) -> str:
    """Show a file relative to the current folder when it is inside it, else absolute."""
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(resolved)


def _fail(file: str, line: int, column: int, message: str, hint: str = "") -> ProfileError:
    diag = Diagnostic(Position(file, line, column), "", message, hint)
    return ProfileError(message, [diag])


def read_text(path: Path, shown: str) -> str:
    """Read a profile as UTF-8 text, refusing binary, oversized, empty and tab-indented input."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise _fail(shown, 1, 1, "file not found") from None
    except OSError as exc:
        raise _fail(shown, 1, 1, f"cannot read file: {exc.strerror}") from None
    if len(data) > MAX_FILE_BYTES:
        raise _fail(
            shown, 1, 1, f"file is {len(data)} bytes, over the {MAX_FILE_BYTES} byte limit",
            "split the profile with `extends`",
        )
    if b"\x00" in data:
        raise _fail(shown, 1, 1, "file is binary (contains NUL bytes)", "a profile is YAML text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise _fail(shown, line, column, "file is not valid UTF-8", "save it as UTF-8") from None
    text = text.removeprefix("\ufeff")
    if not text.strip() or all(
        not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()
    ):
        raise _fail(shown, 1, 1, "file is empty", "a profile starts with apiVersion and kind")
    diagnostics = [
        Diagnostic(
            Position(shown, number, line.index("\t") + 1), "",
            "tab character", "YAML indents with spaces; replace tabs with spaces",
        )
        for number, line in enumerate(text.splitlines(), start=1)
        if "\t" in line
    ]
    if diagnostics:
        raise ProfileError("tabs in profile", diagnostics)
    return text


def load_file(path: Path) -> Node:
    """Load one profile file into a positioned Node tree whose root is a mapping.

    A parent shared by several profiles is parsed once per process: trees are cached by shown
    path and content (merging never mutates them)."""
    shown = display_path(path)
    text = read_text(path, shown)
    key = (shown, text)
    cached = _PARSED.get(key)
    if cached is None:
        cached = _parse(shown, text)
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[key] = cached
    return cached


_PARSED: dict[tuple[str, str], Node] = {}
_PARSED_MAX = 32


def _parse(shown: str, text: str) -> Node:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        raw = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise _fail(shown, line, column, f"invalid YAML: {problem}", _yaml_hint(problem)) from None
    except (YAMLError, ValueError, RecursionError, LookupError, AttributeError, TypeError) as exc:
        raise _fail(shown, 1, 1, "invalid YAML: " + " ".join(str(exc).split())) from None
    root = Position(shown, 1, 1)
    if not isinstance(raw, CommentedMap):
        kind = "nothing" if raw is None else "a list" if isinstance(raw, CommentedSeq) else (
            f"a single value ({type(raw).__name__})")
        raise _fail(shown, 1, 1, f"profile must be a mapping, got {kind}",
                    "start with `apiVersion: aiplat.dev/v1alpha1`")
    budget = _Budget(shown)
    return budget.convert(raw, root, "", 0)


def _yaml_hint(problem: str) -> str:
    if "duplicate key" in problem:
        return "each key may appear once in a mapping"
    if "expected a single document" in problem or "but found another document" in problem:
        return "a profile is a single YAML document"
    return ""


class _Budget:
    """Converts ruamel objects to Nodes, bounding size and depth so aliases cannot explode."""

    def __init__(self, shown: str) -> None:
        self.shown = shown
        self.count = 0

    def convert(self, raw: Any, pos: Position, path: str, depth: int) -> Node:
        self.count += 1
        if self.count > MAX_NODES:
            raise _fail(self.shown, pos.line, pos.column,
                        f"profile expands to more than {MAX_NODES} values",
                        "aliases that expand this much are refused")
        if depth > MAX_DEPTH:
            raise _fail(self.shown, pos.line, pos.column,
                        f"nesting deeper than {MAX_DEPTH} levels")
        tag = getattr(getattr(raw, "tag", None), "value", None)
        if tag and not tag.startswith("tag:yaml.org,2002:"):
            raise _fail(self.shown, pos.line, pos.column, f"{path or 'document'}: tag {tag} is not "
                        "allowed", "profiles use plain YAML values")
        if isinstance(raw, CommentedMap):
            return Node(self._mapping(raw, path, depth), pos)
        if isinstance(raw, CommentedSeq):
            items = []
            for index, item in enumerate(raw):
                line, column = ((raw.lc.data or {}).get(index) or (raw.lc.line, raw.lc.col))[:2]
                child = Position(self.shown, line + 1, column + 1)
                items.append(self.convert(item, child, f"{path}[{index}]", depth + 1))
            return Node(items, pos)
        return Node(self._scalar(raw, pos, path), pos)

    def _mapping(self, raw: CommentedMap, path: str, depth: int) -> dict[str, Node]:
        result: dict[str, Node] = {}
        for key in raw:
            line, column = ((raw.lc.data or {}).get(key) or (raw.lc.line, raw.lc.col))[:2]
            child = Position(self.shown, line + 1, column + 1)
            if not isinstance(key, str):
                raise _fail(self.shown, child.line, child.column,
                            f"{path or 'document'}: key {key!r} is not a string",
                            "quote the key")
            child_path = f"{path}.{key}" if path else key
            result[key] = self.convert(raw[key], child, child_path, depth + 1)
        return result

    def _scalar(self, raw: Any, pos: Position, path: str) -> Scalar:
        if raw is None or isinstance(raw, bool):
            return raw
        # ruamel's ScalarBoolean subclasses int, so test it by name before int.
        if type(raw).__name__ == "ScalarBoolean":
            return bool(raw)
        if isinstance(raw, int):
            return int(raw)
        if isinstance(raw, float):
            return float(raw)
        if isinstance(raw, str):
            return str(raw)
        if isinstance(raw, datetime.date):
            return raw.isoformat()
        raise _fail(self.shown, pos.line, pos.column,
                    f"{path}: unsupported YAML value of type {type(raw).__name__}",
                    "use a string, number, boolean, list or mapping")


def to_plain(node: Node, path: tuple[str | int, ...] = (),
             positions: dict[tuple[str | int, ...], Position] | None = None,
             ) -> tuple[Any, dict[tuple[str | int, ...], Position]]:
    """Turn a Node tree into plain data plus a map from value path to source position."""
    if positions is None:
        positions = {}
    positions[path] = node.pos
    if isinstance(node.value, dict):
        return {k: to_plain(v, (*path, k), positions)[0] for k, v in node.value.items()}, positions
    if isinstance(node.value, list):
        return [to_plain(v, (*path, i), positions)[0] for i, v in enumerate(node.value)], positions
    return node.value, positions
