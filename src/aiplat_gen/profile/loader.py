"""Load profile files safely into a tree that remembers where every value came from.

The loader is the only place that touches raw YAML. It uses ruamel.yaml's round-trip loader (YAML
1.2, plain types only, nothing executable) because it keeps line and column numbers, and it refuses
what a profile never needs: duplicate keys, tabs, tags, alias bombs, huge or binary files. An
ordinary profile takes the fast path in `loader_fast` (libyaml composes, ruamel resolves the
scalars); whatever that path does not cover comes here.
"""

from __future__ import annotations

import datetime
import os
import re
import warnings
from pathlib import Path
from typing import Any

import yaml as libyaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, ReusedAnchorWarning, YAMLError
from ruamel.yaml.reader import ReaderError

from aiplat_gen.core.errors import MAX_SHOWN, Diagnostic, Position, ProfileError
from aiplat_gen.core.files import FileTooLargeError, UnreadableFileError, read_bounded
from aiplat_gen.profile.loader_fast import compose
from aiplat_gen.profile.nodes import MAX_DEPTH, MAX_INTEGER, MAX_NODES, Node, Scalar

MAX_FILE_BYTES = 1024 * 1024
_LONG_NUMBER = re.compile(r"[-+]?[0-9][0-9_]{4000,}")  # more digits than Python converts


def display_path(path: Path) -> str:
    """Show a file relative to the current folder when it is inside it, else absolute.

    Symlinks are not followed: an error is located at the path the user has (`profiles/dev.yaml`),
    not at what it points to (`/dev/urandom`)."""
    shown = Path(os.path.abspath(path))  # noqa: PTH100 - resolve() would follow symlinks
    try:
        return str(shown.relative_to(Path.cwd()))
    except ValueError:
        return str(shown)


def _fail(file: str, line: int, column: int, message: str, hint: str = "",
          excerpt: str = "") -> ProfileError:
    diag = Diagnostic(Position(file, line, column), "", message, hint, excerpt=excerpt)
    return ProfileError(message, [diag])


def _source_line(text: str, line: int) -> str:
    """Line `line` (1-based) of text, to quote under a syntax error ("" past the end or when
    too long to quote with a caret that lines up)."""
    lines = text.splitlines()
    quoted = lines[line - 1] if 0 < line <= len(lines) else ""
    return quoted if len(quoted) <= MAX_SHOWN else ""


def read_text(path: Path, shown: str) -> str:
    """Read a profile as UTF-8 text, refusing binary, oversized, empty and tab-indented input,
    and anything but a regular file (a FIFO would hang the read, `/dev/urandom` fill memory)."""
    try:
        data = read_bounded(path, MAX_FILE_BYTES)
    except FileNotFoundError:
        raise _fail(shown, 1, 1, "file not found") from None
    except OSError as exc:
        raise _fail(shown, 1, 1, f"cannot read file: {exc.strerror}") from None
    except FileTooLargeError as exc:
        raise _fail(shown, 1, 1, exc.reason, "split the profile with `extends`") from None
    except UnreadableFileError as exc:
        raise _fail(shown, 1, 1, exc.reason, "a profile is a regular YAML file") from None
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


def _prescan(shown: str, text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH and numbers too long to convert, at their place,
    before ruamel parses the text (libyaml's event stream is flat and fast); what libyaml
    cannot parse, ruamel reports in its own words."""
    depth = 0
    try:
        for event in libyaml.parse(text, Loader=libyaml.CSafeLoader):
            if isinstance(event, libyaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _fail(shown, *_place(event), f"nesting deeper than {MAX_DEPTH} levels")
            elif isinstance(event, libyaml.CollectionEndEvent):
                depth -= 1
            elif (isinstance(event, libyaml.ScalarEvent) and not event.style
                  and _LONG_NUMBER.match(event.value)):
                raise _fail(shown, *_place(event),
                            f"number of {len(event.value)} digits is out of range",
                            f"integers go up to {MAX_INTEGER}")
    except libyaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        if "nesting depth" in str(exc.problem) and mark is not None:  # libyaml stops at 1,000
            raise _fail(shown, mark.line + 1, mark.column + 1,
                        f"nesting deeper than {MAX_DEPTH} levels") from None
    except libyaml.YAMLError:
        pass


def _place(event: libyaml.Event) -> tuple[int, int]:
    mark = event.start_mark
    return (mark.line + 1, mark.column + 1) if mark else (1, 1)


def _parse(shown: str, text: str) -> Node:
    fast = compose(shown, text)
    return fast if fast is not None else parse_ruamel(shown, text)


def parse_ruamel(shown: str, text: str) -> Node:
    """Load with ruamel: the reference for what a profile means, and for every error."""
    _prescan(shown, text)
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        with warnings.catch_warnings():
            # YAML lets an anchor be defined again (an alias means the latest); ruamel warns.
            warnings.simplefilter("ignore", ReusedAnchorWarning)
            raw = yaml.load(text)
    except ReaderError as exc:  # a character YAML does not allow, e.g. a control character
        before = text[: max(exc.position, 0)]
        line, column = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        raise _fail(shown, line, column, f"invalid YAML: character {char!r} "
                    f"(U+{ord(char):04X}) is not allowed", "write it as an escape in a "
                    "double-quoted string, e.g. \"\\u0007\"") from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise _fail(shown, line, column, f"invalid YAML: {problem}", _yaml_hint(problem),
                    _source_line(text, line)) from None
    except (YAMLError, ValueError, RecursionError) as exc:
        raise _fail(shown, 1, 1, "invalid YAML: " + " ".join(str(exc).split())) from None
    except (LookupError, AttributeError, TypeError):  # ruamel's constructors, e.g. `!!set x`
        raise _fail(shown, 1, 1, "invalid YAML: a tagged value that cannot be read",
                    "remove the tag (e.g. `!!set`, `!!bool`, `!!omap`): profiles use plain "
                    "values") from None
    root = Position(shown, 1, 1)
    if not isinstance(raw, CommentedMap):
        kind = "nothing" if raw is None else "a list" if isinstance(raw, CommentedSeq) else (
            f"a single value ({type(raw).__name__})")
        raise _fail(shown, 1, 1, f"profile must be a mapping, got {kind}",
                    "start with `apiVersion: aiplat.dev/v1alpha1`")
    budget = _Budget(shown)
    return budget.convert(raw, root, "", 0)


def _yaml_hint(problem: str) -> str:
    """What usually causes a YAML syntax error, in the words of the parser's `problem`
    (ruamel.yaml's scanner and parser messages: `ruamel/yaml/scanner.py`, `parser.py`)."""
    for words, hint in _YAML_HINTS:
        if words in problem:
            return hint
    return ""


_YAML_HINTS: tuple[tuple[str, str], ...] = (
    ("duplicate key", "each key may appear once in a mapping"),
    ("expected a single document", "a profile is a single YAML document"),
    ("but found another document", "a profile is a single YAML document"),
    ("mapping values are not allowed here",
     "usually an unquoted ': ' inside a value (quote it: `image: \"repo: x\"`), a "
     "`key:value` without a space after ':' just above, or a line indented deeper than the "
     "key above it, which already has a value"),
    ("expected <block end>",
     "usually indentation: this line is not aligned with the keys or `- ` items above it; "
     "or a `key:value` without a space after ':' (YAML reads it as text, not a key)"),
    ("could not find expected ':'",
     "a key needs ': ' after it (with a space); a value that continues on the next line "
     "needs quotes"),
    ("found undefined alias", "a `*name` refers to an `&name` anchor defined earlier; quote "
     "the value if the `*` is literal"),
    ("found unexpected end of stream", "a quote is not closed"),
    ("while scanning a quoted scalar", "a quote is not closed, or a backslash escape in "
     "double quotes is not valid (use single quotes for literal backslashes)"),
    ("found character that cannot start any token",
     "a value starting with `@`, a backtick or `%` needs quotes"),
    ("expected ',' or ']'", "a `[...]` list is not closed, or an item needs quotes"),
    ("expected ',' or '}'", "a `{...}` mapping is not closed, or a value needs quotes"),
)


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
            self._text(key, child, path or "document")
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
            if abs(raw) > MAX_INTEGER:
                raise _fail(self.shown, pos.line, pos.column, f"{path}: integer out of range",
                            f"integers go up to {MAX_INTEGER}")
            return int(raw)
        if isinstance(raw, float):
            return float(raw)
        if isinstance(raw, str):
            return self._text(str(raw), pos, path)
        if isinstance(raw, datetime.date):
            return raw.isoformat()
        raise _fail(self.shown, pos.line, pos.column,
                    f"{path}: unsupported YAML value of type {type(raw).__name__}",
                    "use a string, number, boolean, list or mapping")

    def _text(self, value: str, pos: Position, path: str) -> str:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            code = ord(exc.object[exc.start])
            raise _fail(self.shown, pos.line, pos.column, f"{path}: escape of U+{code:04X} is "
                        "not a character (a lone UTF-16 surrogate)",
                        "write the character itself, or a pair as one \\U escape") from None
        return value


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
