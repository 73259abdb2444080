"""Write the rendered tree safely: only files the tool owns, atomically, deterministically.

The record `output/.aiplat-gen.json` lists every file the tool wrote, with the profile that
owns it and its sha256. A render
- refuses (changing nothing) when a file it would write exists and is not in the record, or when
  a path inside the output folder is a symlink or leaves it;
- stages every changed file in a temporary folder inside the output folder, then moves them into
  place and writes the record last; if that is interrupted, every previous file is put back;
- removes owned files that the rendered profiles no longer produce, but only while they still
  hold what the tool wrote; a file someone edited is left alone with a warning.
An exclusive lock on the output folder keeps two renders from interleaving.
"""

from __future__ import annotations

import contextlib
import difflib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from aiplat_gen.errors import OutputError

RECORD = ".aiplat-gen.json"
STAGING_PREFIX = ".aiplat-gen-staging-"


@dataclass(frozen=True)
class Plan:
    """What a render would change in the output folder."""

    write: dict[str, str]  # path -> new text (changed or new files)
    unchanged: list[str]
    remove: list[str]  # owned files no longer rendered, still as written
    kept_edited: list[str]  # owned files no longer rendered but edited by someone: left alone
    record: dict[str, dict[str, str]]

    @property
    def stale(self) -> list[str]:
        """Files that differ from a fresh render (for --check)."""
        return sorted([*self.write, *self.remove])


@dataclass
class Outcome:
    """What a write did."""

    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept_edited: list[str] = field(default_factory=list)


def _sha(text: bytes) -> str:
    return hashlib.sha256(text).hexdigest()


def read_record(out: Path) -> dict[str, dict[str, str]]:
    """The files the tool owns in `out`, from its record (empty when there is none)."""
    path = out / RECORD
    if path.is_symlink():
        raise OutputError(f"{path} is a symlink; refusing to use it")
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = data["files"]
        return {str(k): {"profile": str(v["profile"]), "sha256": str(v["sha256"])}
                for k, v in files.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise OutputError(f"{path} is not a valid aiplat-gen record",
                          ) from None


def _safe_target(out: Path, rel: str) -> Path:
    """The absolute path of rel inside out; refuses symlinks and escapes on the way."""
    target = out / rel
    current = out
    for part in Path(rel).parts:
        current = current / part
        if current.is_symlink():
            raise OutputError(f"{current} is a symlink; aiplat-gen does not write through links")
    if not target.resolve().is_relative_to(out.resolve()):
        raise OutputError(f"{target} leaves the output folder")
    return target


def plan(out: Path, files: dict[str, str], owners: dict[str, str],
         scope: set[str]) -> Plan:
    """Compare the rendered files with the output folder.

    `owners` maps each rendered file to its profile; `scope` is the set of profiles rendered now,
    whose previously owned files may be removed if no longer rendered.
    """
    if out.is_symlink():
        raise OutputError(f"output folder {out} is a symlink; refusing to write through it")
    if out.exists() and not out.is_dir():
        raise OutputError(f"output path {out} exists and is not a folder")
    record = read_record(out) if out.is_dir() else {}
    write: dict[str, str] = {}
    unchanged: list[str] = []
    foreign: list[str] = []
    for rel, text in sorted(files.items()):
        target = _safe_target(out, rel)
        data = text.encode("utf-8")
        if target.exists() or target.is_symlink():
            if not target.is_file():
                foreign.append(rel)
                continue
            current = target.read_bytes()
            if rel not in record and current != data:
                foreign.append(rel)
                continue
            if current == data:
                unchanged.append(rel)
                continue
        write[rel] = text
    if foreign:
        raise OutputError(
            "refusing to overwrite files aiplat-gen did not write: " + ", ".join(foreign)
            + " (move them away, or render into another folder with --out)")
    remove: list[str] = []
    kept: list[str] = []
    for rel, entry in sorted(record.items()):
        if rel in files or entry["profile"] not in scope:
            continue
        target = out / rel
        if not target.is_file() or target.is_symlink():
            continue
        if _sha(target.read_bytes()) == entry["sha256"]:
            remove.append(rel)
        else:
            kept.append(rel)
    new_record = {rel: entry for rel, entry in record.items()
                  if rel not in remove and (out / rel).is_file() and rel not in files}
    for rel, text in files.items():
        new_record[rel] = {"profile": owners[rel], "sha256": _sha(text.encode("utf-8"))}
    return Plan(write, unchanged, remove, kept, dict(sorted(new_record.items())))


def record_text(record: dict[str, dict[str, str]]) -> str:
    """The record file's content: sorted, stable JSON."""
    return json.dumps({"generator": "aiplat-gen", "version": 1, "files": record},
                      indent=2, sort_keys=True) + "\n"


@contextlib.contextmanager
def _locked(out: Path) -> Iterator[None]:
    fd = os.open(out, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def apply(out: Path, files: dict[str, str], owners: dict[str, str], scope: set[str]) -> Outcome:
    """Plan and carry out a render into `out` under a lock."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output folder {out}: {exc.strerror}") from None
    try:
        with _locked(out):
            return _apply_locked(out, files, owners, scope)
    except PermissionError as exc:
        raise OutputError(f"cannot write to {exc.filename or out}: permission denied") from None
    except OSError as exc:
        raise OutputError(f"cannot write to {exc.filename or out}: {exc.strerror}") from None


def _apply_locked(out: Path, files: dict[str, str], owners: dict[str, str],
                  scope: set[str]) -> Outcome:
    todo = plan(out, files, owners, scope)
    outcome = Outcome(unchanged=todo.unchanged, kept_edited=todo.kept_edited)
    record = record_text(todo.record)
    record_changed = not (out / RECORD).is_file() or (out / RECORD).read_text("utf-8") != record
    if not todo.write and not todo.remove and not record_changed:
        return outcome
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out))
    try:
        for rel, text in todo.write.items():
            staged = staging / "new" / rel
            staged.parent.mkdir(parents=True, exist_ok=True)
            staged.write_text(text, encoding="utf-8")
        (staging / RECORD).write_text(record, encoding="utf-8")
        _swap(out, staging, todo, outcome)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return outcome


def _swap(out: Path, staging: Path, todo: Plan, outcome: Outcome) -> None:
    """Move staged files into place, keeping the previous version of each file in the staging
    folder; if anything fails (or the process is interrupted), put every previous file back and
    remove the new ones, so the output folder is as it was."""
    backups = staging / "old"
    moved: list[tuple[Path, Path | None]] = []  # (target, backup or None if the file was new)
    try:
        for rel in [*todo.write, *todo.remove, RECORD]:
            target = out / rel
            backup = None
            if target.is_file():
                backup = backups / rel
                backup.parent.mkdir(parents=True, exist_ok=True)
                target.replace(backup)
            moved.append((target, backup))
            if rel in todo.write:
                target.parent.mkdir(parents=True, exist_ok=True)
                (staging / "new" / rel).replace(target)
                outcome.written.append(rel)
            elif rel == RECORD:
                (staging / RECORD).replace(target)
            else:
                outcome.removed.append(rel)
    except BaseException:
        for target, backup in reversed(moved):
            if target.is_file() and not target.is_symlink():
                target.unlink()
            if backup is not None:
                backup.replace(target)
        outcome.written.clear()
        outcome.removed.clear()
        raise
    for rel in todo.remove:
        _prune_empty(out, (out / rel).parent)


def _prune_empty(out: Path, folder: Path) -> None:
    while folder != out and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def unified_diff(out: Path, todo: Plan) -> str:
    """A unified diff from the files on disk to the rendered ones."""
    chunks: list[str] = []
    for rel in todo.stale:
        target = out / rel
        old = target.read_text("utf-8").splitlines(keepends=True) if target.is_file() else []
        new = todo.write.get(rel, "").splitlines(keepends=True)
        chunks.extend(difflib.unified_diff(old, new, f"a/{rel}", f"b/{rel}"))
    return "".join(chunks)
