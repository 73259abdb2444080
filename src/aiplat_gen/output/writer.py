"""Write the rendered tree safely: only files the tool owns, atomically, deterministically.

The record `output/.aiplat-gen.json` lists every file the tool wrote, with the profile that
owns it and its sha256 (`output/record`: what counts as the tool's own). A render
- refuses (changing nothing) when a file it would write or remove exists and is not its own
  (foreign), when a path inside the output folder is a symlink (the folder itself, a folder on
  the way, a file, the record), when a file stands where it needs a folder, or when the record
  or a staging journal is not exactly what the tool writes;
- refuses, unless `force`, when an owned file it would overwrite or remove was edited since it
  was written (its bytes differ from the sha256 in the record);
- stages every changed file in a temporary folder inside the output folder, writes a journal of
  the moves there, then moves the files into place and writes the record last. If that fails or
  is interrupted (Ctrl-C, SIGTERM, SIGHUP), every previous file is put back; if the process is
  killed outright, the next render finds the journal and puts them back before it starts;
- removes owned files that no profile in scope produces any more: in a render of named profiles
  only those profiles' files, in a render of --all (scope None) also the files of profiles that
  no longer exist.
An exclusive lock on the output folder keeps two renders from interleaving.
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import fcntl
import hashlib
import json
import os
import shutil
import signal
import stat
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import FrameType
from typing import Any

from aiplat_gen.core.errors import OutputError
from aiplat_gen.output.record import (
    JOURNAL,
    OWNER,
    RECORD,
    STAGING_PREFIX,
    Record,
    folder_id,
    read_journal,
    read_owner,
    read_record,
    record_text,
    stamped,
    valid_rel,
)

__all__ = ["EDITED_MARK", "RECORD", "STAGING_PREFIX", "Changes", "Outcome", "apply", "changes",
           "diff", "drift", "read_record", "record_text", "recover", "unified_diff"]
EDITED_MARK = " (edited since aiplat-gen wrote it)"
"""How `drift` marks an owned file someone edited (a render refuses it without --force)."""


@dataclass(frozen=True)
class Changes:
    """What a render would change in the output folder."""

    write: dict[str, str]  # path -> new text (changed or new files)
    unchanged: list[str]
    remove: list[str]  # owned files no longer rendered
    edited: list[str]  # owned files to write or remove that someone edited since
    left_foreign: list[str]  # listed in the record but not the tool's own: left alone
    record: Record

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
    left_foreign: list[str] = field(default_factory=list)


def _sha(text: bytes) -> str:
    return hashlib.sha256(text).hexdigest()


def _reason(exc: OSError) -> str:
    if exc.errno == errno.EROFS:
        return "read-only file system (render into a writable folder with --out)"
    if exc.errno == errno.ENOSPC:
        return "no space left on device"
    return "permission denied" if isinstance(exc, PermissionError) else (
        exc.strerror or str(exc)).lower()


def _os_error(verb: str, out: Path, exc: OSError) -> OutputError:
    """A clear message for a failed file operation (naming the output folder rather than the
    tool's temporary staging folder)."""
    where = exc.filename if exc.filename and STAGING_PREFIX not in str(exc.filename) else out
    return OutputError(f"cannot {verb} {where}: {_reason(exc)}")


def _ownership(rel: str, current: bytes, record: Record) -> str:
    """"owned" (as the tool wrote it), "edited" (the tool's, changed since) or "foreign"."""
    entry = record.get(rel)
    if entry is None or not stamped(current):
        return "foreign"
    return "owned" if _sha(current) == entry["sha256"] else "edited"


class Paths:
    """Checks paths inside the output folder (each folder once): no symlink on the way, no file
    where a folder is needed. (String paths and `os.lstat`: a render checks thousands.)"""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.root = os.fspath(out)
        self.folders: set[str] = set()

    def target(self, rel: str) -> Path:
        """The path of rel inside the output folder, refused if it would follow a link."""
        if not valid_rel(rel):
            raise OutputError(f"{rel!r} is not a file inside the output folder")
        parts = rel.split("/")
        current = self.root
        for index, part in enumerate(parts):
            current = f"{current}/{part}"
            last = index == len(parts) - 1
            if not last and current in self.folders:
                continue
            try:
                mode = os.lstat(current).st_mode
            except FileNotFoundError:
                return self.out / rel
            if stat.S_ISLNK(mode):
                raise OutputError(f"{current} is a symlink; aiplat-gen does not write through "
                                  "links (replace it with a real folder or file)")
            if not last:
                if not stat.S_ISDIR(mode):
                    raise OutputError(f"{current} is a file where aiplat-gen writes a folder "
                                      "(move it away, or render into another folder with --out)")
                self.folders.add(current)
        return self.out / rel


Scope = set[str] | None  # the profiles rendered now; None: every profile (a render of --all)


def changes(out: Path, files: dict[str, str], owners: dict[str, str], scope: Scope) -> Changes:
    """Compare the rendered files with the output folder.

    `owners` maps each rendered file to its profile; the previously owned files of the profiles
    in `scope` that are no longer rendered are to be removed (with scope None, every owned file
    no longer rendered: the profiles of a render of --all are all there are).
    """
    try:
        return _changes(out, files, owners, scope)
    except OSError as exc:
        raise _os_error("read", out, exc) from None


def _check_folder(out: Path) -> None:
    if out.is_symlink():
        raise OutputError(f"output folder {out} is a symlink; refusing to write through it")
    if out.exists() and not out.is_dir():
        raise OutputError(f"output path {out} exists and is not a folder")


def _changes(out: Path, files: dict[str, str], owners: dict[str, str], scope: Scope) -> Changes:
    _check_folder(out)
    record = read_record(out) if out.is_dir() else {}
    paths = Paths(out)
    write: dict[str, str] = {}
    unchanged: list[str] = []
    foreign: list[str] = []
    edited: list[str] = []
    for rel, text in sorted(files.items()):
        target = paths.target(rel)
        data = text.encode("utf-8")
        if target.exists() or target.is_symlink():
            if not target.is_file():
                foreign.append(rel)
                continue
            current = target.read_bytes()
            if current == data:
                unchanged.append(rel)
                continue
            owner = _ownership(rel, current, record)
            if owner == "foreign":
                foreign.append(rel)
                continue
            if owner == "edited":
                edited.append(rel)
        write[rel] = text
    if foreign:
        raise OutputError(
            "refusing to overwrite files aiplat-gen did not write: " + ", ".join(foreign)
            + " (move them away, or render into another folder with --out)")
    remove: list[str] = []
    left: list[str] = []
    for rel, entry in sorted(record.items()):
        if rel in files or (scope is not None and entry["profile"] not in scope):
            continue
        target = paths.target(rel)
        if not target.is_file():
            continue
        owner = _ownership(rel, target.read_bytes(), record)
        if owner == "foreign":
            left.append(rel)  # not the tool's text: never deleted, dropped from the record
            continue
        if owner == "edited":
            edited.append(rel)
        remove.append(rel)
    new_record = {rel: entry for rel, entry in record.items()
                  if rel not in remove and rel not in left and rel not in files
                  and (out / rel).is_file()}
    for rel, text in files.items():
        new_record[rel] = {"profile": owners[rel], "sha256": _sha(text.encode("utf-8"))}
    return Changes(write, unchanged, remove, sorted(edited), left,
                   dict(sorted(new_record.items())))


def _refuse_edited(out: Path, edited: list[str]) -> OutputError:
    return OutputError(
        f"{len(edited)} file(s) in {out} were edited since aiplat-gen wrote them and would be "
        "overwritten or removed: " + ", ".join(edited) + ". To keep the edits, move the files "
        "out of the output folder (and carry the change into the profile or a --templates-dir "
        "override); to discard them, render again with --force")


@contextlib.contextmanager
def _locked(out: Path) -> Iterator[None]:
    fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


_STOP = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def _signals(handler: Any, signals: tuple[signal.Signals, ...]) -> Iterator[None]:
    """Run with `handler` for `signals` (only the main thread may set handlers)."""
    main = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.signal(sig, handler) for sig in signals} if main else {}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old if old is not None else signal.SIG_DFL)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def _shielded() -> Iterator[None]:
    """Put files back without being cut off: stop signals wait until it is done, then raise."""
    caught: list[int] = []
    with _signals(lambda signum, frame: caught.append(signum), _STOP):
        yield
    if caught:
        raise KeyboardInterrupt("interrupted while restoring the output folder")


def apply(out: Path, files: dict[str, str], owners: dict[str, str], scope: Scope,
          force: bool = False) -> Outcome:
    """Plan and carry out a render into `out` under a lock. SIGTERM and SIGHUP interrupt it like
    Ctrl-C: the output folder is left as it was. Edited owned files are refused unless
    `force`."""
    try:
        _check_folder(out)
        created = not out.exists()
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output folder {out}: {_reason(exc)}") from None
    try:
        with _locked(out), _signals(_interrupt, _STOP[1:]):
            return _apply_locked(out, files, owners, scope, force)
    except OSError as exc:
        raise _os_error("write to", out, exc) from None
    finally:
        if created:  # a first render that failed leaves no empty output folder behind
            with contextlib.suppress(OSError):
                out.rmdir()


def _apply_locked(out: Path, files: dict[str, str], owners: dict[str, str], scope: Scope,
                  force: bool) -> Outcome:
    recover(out)
    todo = _changes(out, files, owners, scope)
    if todo.edited and not force:
        raise _refuse_edited(out, todo.edited)
    outcome = Outcome(unchanged=todo.unchanged, left_foreign=todo.left_foreign)
    record = record_text(todo.record)
    record_path = out / RECORD
    writes = {**todo.write}
    if not record_path.is_file() or record_path.read_bytes() != record.encode("utf-8"):
        writes[RECORD] = record
    if not writes and not todo.remove:
        return outcome
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out))
    try:
        _write_atomically(staging / OWNER, json.dumps({"folder": folder_id(out)}))
        made: set[Path] = set()
        for rel, text in writes.items():
            staged = staging / "new" / rel
            if staged.parent not in made:
                staged.parent.mkdir(parents=True, exist_ok=True)
                made.add(staged.parent)
            staged.write_bytes(text.encode("utf-8"))
        # The record moves last: until it does, the previous record describes the folder.
        moves = [*todo.write, *todo.remove, *([RECORD] if RECORD in writes else [])]
        journal = _journal(out, staging, moves, writes)
        _swap(out, staging, journal)
        (staging / JOURNAL).unlink()  # the commit point: nothing is put back from here on
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    outcome.written = list(todo.write)
    outcome.removed = list(todo.remove)
    for rel in todo.remove:
        _prune_empty(out, (out / rel).parent)
    return outcome


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(f"{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def _journal(out: Path, staging: Path, moves: list[str], writes: dict[str, str],
             ) -> dict[str, Any]:
    """Write (atomically) what the swap will do, for putting files back after a crash: the moves
    in order, the files and folders that do not exist yet, the new files' sha256, the output
    folder's identity and the inode of each file the render creates (a rename keeps it)."""
    parents = {str(parent) for rel in {rel.rpartition("/")[0] for rel in moves}
               for parent in (PurePosixPath(rel), *PurePosixPath(rel).parents)}
    created_folders = sorted((p for p in parents if p != "." and not (out / p).is_dir()),
                             key=lambda folder: (-folder.count("/"), folder))
    created = sorted(rel for rel in moves if not (out / rel).is_file())
    inodes = {}
    for rel in created:
        if rel in writes:
            info = (staging / "new" / rel).lstat()
            inodes[rel] = [info.st_dev, info.st_ino]
    journal = {
        "moves": moves,
        "created": created,
        "createdFolders": created_folders,
        "sha256": {rel: _sha(text.encode("utf-8")) for rel, text in writes.items()},
        "folder": folder_id(out),
        "inodes": inodes,
    }
    _write_atomically(staging / JOURNAL, json.dumps(journal, sort_keys=True))
    return journal


def _swap(out: Path, staging: Path, journal: dict[str, Any]) -> None:
    """Move staged files into place, keeping each previous file in the staging folder; if
    anything fails or interrupts it, put every previous file back."""
    paths = Paths(out)
    made: set[Path] = set()

    def folder_for(path: Path) -> None:
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)

    try:
        for rel in journal["moves"]:
            target = paths.target(rel) if rel != RECORD else out / RECORD
            if target.is_file():
                backup = staging / "old" / rel
                folder_for(backup)
                target.replace(backup)
            if rel in journal["sha256"]:
                folder_for(target)
                (staging / "new" / rel).replace(target)
    except BaseException:
        with _shielded():
            _roll_back(out, staging, journal)
        raise


def _created_by_render(target: Path, rel: str, journal: dict[str, Any]) -> bool:
    """Whether `target` is the very file the journal's render created: the same inode, the same
    bytes (so a file put there by someone else since is never deleted)."""
    try:
        info = target.lstat()
    except FileNotFoundError:
        return False
    return (stat.S_ISREG(info.st_mode) and [info.st_dev, info.st_ino] == journal["inodes"].get(rel)
            and _sha(target.read_bytes()) == journal["sha256"].get(rel))


def _roll_back(out: Path, staging: Path, journal: dict[str, Any]) -> None:
    """Put the folder back as the journal found it. Works from what is on disk, so it is right
    wherever the moves stopped (even between a rename and the line after it)."""
    paths = Paths(out)
    for rel in reversed(journal["moves"]):
        target = paths.target(rel) if rel != RECORD else out / RECORD
        backup = staging / "old" / rel
        if backup.is_file() and not backup.is_symlink():
            target.parent.mkdir(parents=True, exist_ok=True)
            backup.replace(target)
        elif (rel in journal["created"] and not (staging / "new" / rel).exists()
              and _created_by_render(target, rel, journal)):
            target.unlink()
    for folder in journal["createdFolders"]:
        with contextlib.suppress(OSError):
            (out / folder).rmdir()  # only if empty: nothing but the render's files was there


def recover(out: Path) -> None:
    """Undo renders that were killed midway (their staging folders are still in `out`); call it
    under the lock. A staging folder is trusted only when its owner marker names this output
    folder; one without a marker is removed only if it holds nothing (or only the marker being
    written), else the render stops."""
    for staging in sorted(out.glob(f"{STAGING_PREFIX}*")):
        if not staging.is_dir() or staging.is_symlink():
            continue
        if not read_owner(staging, out):
            contents = {p.name for p in staging.iterdir()}
            if not contents <= {f"{OWNER}.partial"}:
                raise OutputError(
                    f"{staging} is not a staging folder of aiplat-gen in this output folder "
                    "(it has no owner marker); move it out of the output folder")
            shutil.rmtree(staging)
            continue
        journal = read_journal(staging, out)
        if journal is not None:  # else killed while staging or after the commit point
            with _shielded():
                _roll_back(out, staging, journal)
        shutil.rmtree(staging, ignore_errors=True)


def _prune_empty(out: Path, folder: Path) -> None:
    while folder != out and folder.is_dir() and not folder.is_symlink() and not any(
            folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def unified_diff(out: Path, todo: Changes, shown: str | None = None) -> str:
    """A unified diff from the files on disk to the rendered ones, the record included (what
    `drift` reports). Paths are `shown` (how to print `out`; default: as given) joined with each
    file's path, so they read `a/output/base/...` like `git diff` from where the command runs;
    a new file comes from `/dev/null`, a removed one goes to it."""
    prefix = str(out) if shown is None else shown
    prefix = "" if prefix in ("", ".") else prefix.rstrip("/") + "/"
    wanted = {**todo.write, RECORD: record_text(todo.record)}
    chunks: list[str] = []
    for rel in sorted({*todo.stale, RECORD}):
        target = out / rel
        try:
            old = target.read_text("utf-8", errors="replace").splitlines(
                keepends=True) if target.is_file() else []
        except OSError as exc:
            raise _os_error("read", out, exc) from None
        new = wanted.get(rel, "").splitlines(keepends=True)
        before = f"a/{prefix}{rel}" if target.is_file() else "/dev/null"
        after = f"b/{prefix}{rel}" if rel in wanted else "/dev/null"
        chunks.extend(difflib.unified_diff(old, new, before, after))
    return "".join(chunks)


def drift(out: Path, files: dict[str, str], owners: dict[str, str], scope: Scope
          ) -> list[str]:
    """The files in `out` that differ from a fresh render, the record included (for --check):
    what `apply` would write or remove, an edited file marked as such (reported, not refused)."""
    todo = changes(out, files, owners, scope)
    stale = todo.stale
    record_path = out / RECORD
    if not record_path.is_file() or record_path.read_text("utf-8") != record_text(todo.record):
        stale = sorted({*stale, RECORD})
    edited = set(todo.edited)
    return [f"{rel}{EDITED_MARK}" if rel in edited else rel
            for rel in stale]


def diff(out: Path, files: dict[str, str], owners: dict[str, str], scope: Scope,
         shown: str | None = None) -> str:
    """A unified diff from the files in `out` to the rendered ones, the record included (for
    --diff; empty when `drift` finds nothing). `shown`: see `unified_diff`."""
    return unified_diff(out, changes(out, files, owners, scope), shown)
