"""Read what `check` validates once per run: the built YAML streams and the output tree.

The targets of one check (`base`, `overlays/dev`, `overlays/prod`, ...) share most of their
objects, and every overlay is defined by the same `base/` files. So a YAML stream is split into
its documents and each distinct document is parsed once (an object built identically for several
targets is the same Python object), and each output folder is indexed once, from the head of each
document (`apiVersion`, `kind`, `metadata`) rather than the whole file. Parsing uses PyYAML's C
loader, as before: YAML 1.1, the reading kubeconform's Go YAML library shares.

The parsed documents of a run can be kept in a file of the cache folder, keyed by the sha256 of
their text, for the next run (parsing is deterministic, so a kept document is always right). Only
documents whose JSON form reads back as the same Python values are kept (no YAML dates, bytes or
non-string keys).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiplat_gen.core import yamlio
from aiplat_gen.profile.loader import display_path

Key = tuple[str, str, str, str]
"""(apiVersion, kind, namespace, name) of an object."""
Location = tuple[str, int]
"""(file as shown, line of its `kind:`) of an object's definition."""

# A line holding only `---` separates documents. Any other marker at the start of a line
# (`--- !tag`, `...`, a `%` directive) means the stream is parsed whole instead.
_SEPARATOR = re.compile(r"^---[ \t]*(?:\r?\n|\Z)", re.MULTILINE)
_OTHER_MARKER = re.compile(r"^(?:---[ \t]*[^\s]|\.\.\.|%)", re.MULTILINE)
# A top-level key of a block mapping, written plainly (`kind: Service`, `metadata:`).
_TOP_KEY = re.compile(r"([A-Za-z_][\w.-]*):(?:[ \t]|$)")
_HEAD_KEYS = frozenset({"apiVersion", "kind", "metadata"})


@dataclass(frozen=True)
class Document:
    """One parsed YAML document and its text (empty when the stream was parsed whole)."""

    obj: Any
    text: str


def key(obj: dict[str, Any]) -> Key:
    """The identity of an object, as kustomize keeps it."""
    meta = obj.get("metadata") or {}
    return (str(obj.get("apiVersion", "")), str(obj.get("kind", "")),
            str(meta.get("namespace", "")), str(meta.get("name", "")))


def split_documents(text: str) -> list[str] | None:
    """The documents of a YAML stream as texts, or None when it has markers other than plain
    `---` lines (then only a whole-stream parse reads it right)."""
    if _OTHER_MARKER.search(text):
        return None
    return _SEPARATOR.split(text)


class DocumentParser:
    """Parses YAML streams, each distinct document once per run (and, with a `store` file, once
    for as long as its text does not change)."""

    def __init__(self, store: Path | None = None) -> None:
        self.store = store
        self._parsed: dict[str, list[Any]] = {}
        self._kept = _read_store(store) if store is not None else {}
        self._changed = False

    def parse(self, text: str) -> list[Document]:
        """The non-empty documents of a stream, in order."""
        chunks = split_documents(text)
        if chunks is None:
            return [Document(obj, "") for obj in yamlio.load_all(text)]
        documents = []
        for chunk in chunks:
            parsed = self._parsed.get(chunk)
            if parsed is None:
                parsed = self._parsed[chunk] = self._parse_chunk(chunk)
            # A chunk without a marker holds at most one document.
            documents += [Document(obj, chunk if len(parsed) == 1 else "") for obj in parsed]
        return documents


    def _parse_chunk(self, chunk: str) -> list[Any]:
        if self.store is None:
            return yamlio.load_all(chunk)
        digest = hashlib.sha256(chunk.encode()).hexdigest()
        kept = self._kept.get(digest)
        if kept is not None:
            return kept
        self._changed = True
        return yamlio.load_all(chunk)

    def save(self) -> None:
        """Keep this run's documents in the store file (only them: it stays the size of one
        run). Atomic; a failure to write only costs the next run some parsing."""
        if self.store is None or not self._changed:
            return
        keep = {hashlib.sha256(chunk.encode()).hexdigest(): docs
                for chunk, docs in self._parsed.items() if _json_safe(docs)}
        data = zlib.compress(json.dumps(keep, separators=(",", ":")).encode(), 1)
        with contextlib.suppress(OSError):
            self.store.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=".tmp-", dir=self.store.parent)
            tmp = Path(name)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                tmp.replace(self.store)
            finally:
                tmp.unlink(missing_ok=True)


def _read_store(store: Path) -> dict[str, list[Any]]:
    try:
        data = json.loads(zlib.decompress(store.read_bytes()))
    except (OSError, zlib.error, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, list)}


def _json_safe(node: Any) -> bool:
    """True when `json` writes and reads `node` back as the same Python values."""
    if node is None or isinstance(node, str | bool | int | float):
        return True
    if type(node) is list:
        return all(_json_safe(item) for item in node)
    if type(node) is dict:
        return all(type(k) is str and _json_safe(v) for k, v in node.items())
    return False


class SourceIndex:
    """Where each object of the output tree is defined; each folder is read once per run."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self._folders: dict[str, dict[Key, Location]] = {}

    def lookup(self, sources: Sequence[str]) -> dict[Key, Location]:
        """The definitions seen from a target whose objects come from `sources` (nearest
        folder first: its files win)."""
        index: dict[Key, Location] = {}
        for folder in reversed(sources):
            index.update(self._folder(folder))
        return index

    def _folder(self, folder: str) -> dict[Key, Location]:
        if folder not in self._folders:
            found: dict[Key, Location] = {}
            for path in sorted((self.out / folder).rglob("*.yaml")):
                if path.name == "kustomization.yaml":
                    continue
                text = path.read_text(encoding="utf-8")
                line = next((n for n, ln in enumerate(text.splitlines(), 1)
                             if ln.startswith("kind:")), 1)
                shown = display_path(path)
                for head in _heads(text):
                    found[key(head)] = (shown, line)
            self._folders[folder] = found
        return self._folders[folder]


def _heads(text: str) -> list[dict[str, Any]]:
    """`apiVersion`, `kind` and `metadata` of each mapping document in a file.

    Only those keys' lines are parsed when every top-level key is a plain block key (as in
    every file aiplat-gen writes); anything else is parsed whole.
    """
    chunks = split_documents(text)
    if chunks is None:
        return [d for d in yamlio.load_all(text) if isinstance(d, dict)]
    heads = []
    for chunk in chunks:
        head = _head_text(chunk)
        docs = yamlio.load_all(chunk if head is None else head)
        heads += [d for d in docs if isinstance(d, dict)]
    return heads


def _head_text(chunk: str) -> str | None:
    """The lines of the head keys of one document, or None when its top level is not a block
    mapping with plain keys."""
    kept: list[str] = []
    current: str | None = None
    for line in chunk.splitlines():
        if not line or line[0] in " #":
            # Indented (or blank, or a comment): part of the current key's value.
            if current in _HEAD_KEYS:
                kept.append(line)
            continue
        if line == "-" or line.startswith(("- ", "-\t")):
            # A block sequence at column 0 is the value of the key above.
            if current is None:
                return None
            if current in _HEAD_KEYS:
                kept.append(line)
            continue
        match = _TOP_KEY.match(line)
        if match is None:
            return None
        current = match.group(1)
        if current in _HEAD_KEYS:
            kept.append(line)
    return "\n".join(kept) + "\n" if current is not None else None
