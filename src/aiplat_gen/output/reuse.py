"""Reuse of a render whose inputs have not changed (`render`).

A render is a function of its inputs: the profiles (every `*.yaml`/`*.yml` of the folders it
reads: a profile's family and its parents live there), the `--templates-dir` override, the
options and current folder (paths in messages are shown relative to it), and the tool itself
(`core.package.fingerprint`: its code, templates, Python and libraries). `key` hashes all of
them. After a render that wrote the folder, `remember` keeps, in the
user cache (`renders/<key>.json`), what it produced: each file's sha256 and profile, the object
counts, the warnings, and the sha256 of the record it left.

The next render with the same key first calls `unchanged`: when the output folder is exactly as
that render left it (the record byte for byte, every rendered file with its sha256, through no
symlink, no staging folder of an interrupted render, no other owned file of the rendered
profiles), the full render would write, remove and report nothing new, so its result is
returned without validating or rendering anything. Anything else (a changed or unreadable
input, an edited file, a cache entry that is missing or not as written) means the full render,
which is always right; the cache only ever skips work, never decides an outcome the full render
would not reach. `--check`, `--diff` and `--force` always render in full: `--check` is the gate
CI runs, and a gate trusts no cache (anyone who can write the cache folder, a shared CI cache
say, could otherwise make a stale output folder pass).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiplat_gen.core.cache import cache_dir
from aiplat_gen.core.errors import Diagnostic, OutputError, Position, ProfileRef, Severity
from aiplat_gen.core.package import fingerprint
from aiplat_gen.output.record import RECORD, STAGING_PREFIX
from aiplat_gen.output.writer import Paths

FORMAT = 1
KEEP = 32  # entries in the cache folder; the oldest go first
_INPUT_LIMIT = 16 * 1024 * 1024  # a larger profile is not hashed: the full render refuses it
_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Reused:
    """What a render produced, as kept in the cache."""

    files: dict[str, str]  # rel -> sha256
    owners: dict[str, str]  # rel -> profile
    objects: dict[str, int]
    names: list[str]
    warnings: list[Diagnostic]
    record: str  # sha256 of the record file the render left


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _regular_bytes(path: Path) -> bytes | None:
    """A regular file's bytes (not following a FIFO or device into a blocking read), or None."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode) or info.st_size > _INPUT_LIMIT:
            return None
        return path.read_bytes()
    except OSError:
        return None


def _folder_inputs(folder: Path) -> dict[str, str] | None:
    """sha256 of every profile file in a folder (None: one is not a readable regular file)."""
    found: dict[str, str] = {}
    try:
        names = sorted(entry.name for entry in folder.iterdir())
    except FileNotFoundError:
        return found
    except OSError:
        return None
    for name in names:
        if name.endswith(_SUFFIXES):
            data = _regular_bytes(folder / name)
            if data is None:
                return None
            found[name] = _sha(data)
    return found


def _tree_inputs(root: Path) -> dict[str, str] | None:
    """sha256 of every file below a template override folder."""
    found: dict[str, str] = {}
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            data = _regular_bytes(Path(folder) / name)
            if data is None:
                return None
            found[str((Path(folder) / name).relative_to(root))] = _sha(data)
    return found


def key(refs: list[str], all_profiles: bool, profiles_dir: Path, out_dir: Path,
        templates_dir: Path | None) -> str | None:
    """The cache key of a render: a sha256 of every input, or None when an input cannot be
    read as a plain file (the full render then says what is wrong with it)."""
    # absolute, symlinks not followed: the folders as the loader names them
    folders = {os.path.abspath(profiles_dir)}  # noqa: PTH100
    folders.update(os.path.abspath(Path(ref).parent) for ref in refs  # noqa: PTH100
                   if ref.endswith(_SUFFIXES) or "/" in ref or "\\" in ref)
    inputs: dict[str, Any] = {}
    for folder in sorted(folders):
        found = _folder_inputs(Path(folder))
        if found is None:
            return None
        inputs[folder] = found
    templates = None
    if templates_dir is not None:
        templates = _tree_inputs(templates_dir)
        if templates is None:
            return None
    text = json.dumps({
        "format": FORMAT, "tool": fingerprint(), "cwd": str(Path.cwd()), "refs": refs,
        "all": all_profiles, "profilesDir": str(profiles_dir), "out": str(out_dir),
        "templatesDir": None if templates_dir is None else str(templates_dir),
        "profiles": inputs, "templates": templates,
    }, sort_keys=True)
    return _sha(text.encode())


def _entry_path(render_key: str) -> Path:
    return cache_dir() / "renders" / f"{render_key}.json"


def _diagnostic_data(diag: Diagnostic) -> dict[str, Any]:
    pos = diag.position
    return {"position": None if pos is None else [pos.file, pos.line, pos.column],
            "path": diag.path, "message": diag.message, "hint": diag.hint,
            "severity": diag.severity.value, "excerpt": diag.excerpt,
            "profiles": [[p.name, list(p.chain)] for p in diag.profiles]}


def _diagnostic(data: dict[str, Any]) -> Diagnostic:
    pos = data["position"]
    return Diagnostic(None if pos is None else Position(*pos), data["path"], data["message"],
                      data["hint"], Severity(data["severity"]),
                      tuple(ProfileRef(name, tuple(chain)) for name, chain in data["profiles"]),
                      data["excerpt"])


def remember(render_key: str | None, out: Path, files: dict[str, str], owners: dict[str, str],
             objects: dict[str, int], names: list[str], warnings: list[Diagnostic]) -> None:
    """Keep what a render produced after it left `out` exactly as rendered. A cache that cannot
    be written is skipped: reuse is an optimisation, never a reason to fail."""
    if render_key is None:
        return
    with contextlib.suppress(OSError, ValueError):
        record = (out / RECORD).read_bytes()
        entry = {"format": FORMAT,
                 "files": {rel: _sha(text.encode("utf-8")) for rel, text in files.items()},
                 "owners": owners, "objects": objects, "names": names,
                 "warnings": [_diagnostic_data(d) for d in warnings], "record": _sha(record)}
        path = _entry_path(render_key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(prefix=".partial-", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(entry, handle, sort_keys=True)
            Path(partial).replace(path)
        finally:
            Path(partial).unlink(missing_ok=True)
        _prune(path.parent)


def _prune(folder: Path) -> None:
    entries = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for old in entries[KEEP:]:
        old.unlink(missing_ok=True)


def _load(render_key: str) -> Reused | None:
    path = _entry_path(render_key)
    data = _regular_bytes(path)
    if data is None:
        return None
    try:
        entry = json.loads(data)
        if entry.get("format") != FORMAT:
            return None
        return Reused(dict(entry["files"]), dict(entry["owners"]), dict(entry["objects"]),
                      list(entry["names"]), [_diagnostic(d) for d in entry["warnings"]],
                      str(entry["record"]))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None  # not as `remember` writes it: render in full


def _owned_sha(paths: Paths, rel: str) -> str | None:
    """sha256 of a regular output file reached through real folders only, or None."""
    try:
        target = paths.target(rel)
        fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except (OSError, OutputError):
        return None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return _sha(handle.read())


def unchanged(render_key: str | None, out: Path, all_profiles: bool) -> Reused | None:
    """The kept render of `render_key` if `out` is exactly as it left it (see the module's
    docstring), else None."""
    if render_key is None:
        return None
    reused = _load(render_key)
    if reused is None:
        return None
    try:
        if any(entry.name.startswith(STAGING_PREFIX) for entry in out.iterdir()):
            return None
        record_bytes = _regular_bytes(out / RECORD)
        if record_bytes is None or _sha(record_bytes) != reused.record:
            return None
        # the very bytes a render wrote after validating them: read without checking again
        record = json.loads(record_bytes)["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    scope = None if all_profiles else set(reused.names)
    for rel, entry in record.items():
        if rel not in reused.files and (scope is None or entry["profile"] in scope):
            return None  # the full render would remove it
    paths = Paths(out)
    for rel, sha in reused.files.items():
        if _owned_sha(paths, rel) != sha:
            return None
    return reused
