"""Write the rendered tree safely: only files the tool owns, atomically, deterministically.

The record `output/.aiplat-gen.json` lists every file the tool wrote, with the profile that
owns it and its sha256. A render
- refuses (changing nothing) when a file it would write exists and is not in the record, when a
  path inside the output folder is a symlink (the folder itself, a folder on the way, a file, the
  record), when a file stands where it needs a folder, or when the record lists a path outside
  the folder;
- stages every changed file in a temporary folder inside the output folder, writes a journal of
  the moves there, then moves the files into place and writes the record last. If that fails or
  is interrupted (Ctrl-C, SIGTERM, SIGHUP), every previous file is put back; if the process is
  killed outright, the next render finds the journal and puts them back before it starts;
- removes owned files that the rendered profiles no longer produce, but only while they still
  hold what the tool wrote; a file someone edited is left alone with a warning.
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
import re
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
from aiplat_gen.core.tree_paths import RECORD

__all__ = ["RECORD", "Changes", "Outcome", "apply", "changes", "diff", "drift", "read_record",
           "record_text", "recover", "unified_diff"]
STAGING_PREFIX = ".aiplat-gen-staging-"
JOURNAL = "journal.json"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Changes:
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


def _valid_rel(rel: str) -> bool:
    """A path the tool may own: relative, normalised, inside the folder, not its own files."""
    parts = PurePosixPath(rel).parts
    return (bool(parts) and not rel.startswith("/") and "\\" not in rel and "\x00" not in rel
            and ".." not in parts and str(PurePosixPath(*parts)) == rel
            and not parts[0].startswith(STAGING_PREFIX) and rel != RECORD)


def _reason(exc: OSError) -> str:
    if exc.errno == errno.EROFS:
        return "read-only file system (render into a writable folder with --out)"
    return "permission denied" if isinstance(exc, PermissionError) else (
        exc.strerror or str(exc)).lower()


def _os_error(verb: str, out: Path, exc: OSError) -> OutputError:
    """A clear message for a failed file operation (naming the output folder rather than the
    tool's temporary staging folder)."""
    where = exc.filename if exc.filename and STAGING_PREFIX not in str(exc.filename) else out
    return OutputError(f"cannot {verb} {where}: {_reason(exc)}")


def read_record(out: Path) -> dict[str, dict[str, str]]:
    """The files the tool owns in `out`, from its record (empty when there is none)."""
    path = out / RECORD
    if not path.exists() and not path.is_symlink():
        return {}
    if path.is_symlink() or not path.is_file():
        kind = "a symlink" if path.is_symlink() else "not a regular file"
        raise OutputError(f"{path} is {kind}; refusing to use it")
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
        record = {str(k): {"profile": str(v["profile"]), "sha256": str(v["sha256"])}
                  for k, v in data["files"].items()}
    except OSError as exc:
        raise _os_error("read", out, exc) from None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise OutputError(f"{path} is not a valid aiplat-gen record") from None
    bad = sorted(rel for rel, entry in record.items()
                 if not _valid_rel(rel) or not _SHA256.match(entry["sha256"]))
    if bad:
        raise OutputError(f"{path} is not a valid aiplat-gen record: it lists {bad[0]!r}, which "
                          "is not a file inside the output folder")
    return record


class _Paths:
    """Checks paths inside the output folder (each folder once): no symlink on the way, no file
    where a folder is needed."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.folders: set[Path] = set()

    def target(self, rel: str) -> Path:
        """The path of rel inside the output folder, refused if it would follow a link."""
        if not _valid_rel(rel):
            raise OutputError(f"{rel!r} is not a file inside the output folder")
        current = self.out
        parts = PurePosixPath(rel).parts
        for index, part in enumerate(parts):
            current = current / part
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
        return current


def changes(out: Path, files: dict[str, str], owners: dict[str, str],
         scope: set[str]) -> Changes:
    """Compare the rendered files with the output folder.

    `owners` maps each rendered file to its profile; `scope` is the set of profiles rendered now,
    whose previously owned files may be removed if no longer rendered.
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


def _changes(out: Path, files: dict[str, str], owners: dict[str, str], scope: set[str]) -> Changes:
    _check_folder(out)
    record = read_record(out) if out.is_dir() else {}
    paths = _Paths(out)
    write: dict[str, str] = {}
    unchanged: list[str] = []
    foreign: list[str] = []
    for rel, text in sorted(files.items()):
        target = paths.target(rel)
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
        target = paths.target(rel)
        if not target.is_file():
            continue
        if _sha(target.read_bytes()) == entry["sha256"]:
            remove.append(rel)
        else:
            kept.append(rel)
    new_record = {rel: entry for rel, entry in record.items()
                  if rel not in remove and (out / rel).is_file() and rel not in files}
    for rel, text in files.items():
        new_record[rel] = {"profile": owners[rel], "sha256": _sha(text.encode("utf-8"))}
    return Changes(write, unchanged, remove, kept, dict(sorted(new_record.items())))


def record_text(record: dict[str, dict[str, str]]) -> str:
    """The record file's content: sorted, stable JSON."""
    return json.dumps({"generator": "aiplat-gen", "version": 1, "files": record},
                      indent=2, sort_keys=True) + "\n"


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


def apply(out: Path, files: dict[str, str], owners: dict[str, str], scope: set[str]) -> Outcome:
    """Plan and carry out a render into `out` under a lock. SIGTERM and SIGHUP interrupt it like
    Ctrl-C: the output folder is left as it was."""
    try:
        _check_folder(out)
        created = not out.exists()
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output folder {out}: {_reason(exc)}") from None
    try:
        with _locked(out), _signals(_interrupt, _STOP[1:]):
            return _apply_locked(out, files, owners, scope)
    except OSError as exc:
        raise _os_error("write to", out, exc) from None
    finally:
        if created:  # a first render that failed leaves no empty output folder behind
            with contextlib.suppress(OSError):
                out.rmdir()


def _apply_locked(out: Path, files: dict[str, str], owners: dict[str, str],
                  scope: set[str]) -> Outcome:
    recover(out)
    todo = _changes(out, files, owners, scope)
    outcome = Outcome(unchanged=todo.unchanged, kept_edited=todo.kept_edited)
    record = record_text(todo.record)
    record_path = out / RECORD
    writes = {**todo.write}
    if not record_path.is_file() or record_path.read_bytes() != record.encode("utf-8"):
        writes[RECORD] = record
    if not writes and not todo.remove:
        return outcome
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out))
    try:
        for rel, text in writes.items():
            staged = staging / "new" / rel
            staged.parent.mkdir(parents=True, exist_ok=True)
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


def _journal(out: Path, staging: Path, moves: list[str], writes: dict[str, str],
             ) -> dict[str, Any]:
    """Write (atomically) what the swap will do, for putting files back after a crash: the moves
    in order, the files and folders that do not exist yet, and the new files' sha256."""
    created_folders = sorted(
        {str(parent) for rel in moves for parent in PurePosixPath(rel).parents
         if str(parent) != "." and not (out / parent).is_dir()},
        key=lambda folder: (-folder.count("/"), folder))
    journal = {
        "moves": moves,
        "created": sorted(rel for rel in moves if not (out / rel).is_file()),
        "createdFolders": created_folders,
        "sha256": {rel: _sha(text.encode("utf-8")) for rel, text in writes.items()},
    }
    partial = staging / f"{JOURNAL}.partial"
    partial.write_text(json.dumps(journal, sort_keys=True), encoding="utf-8")
    partial.replace(staging / JOURNAL)
    return journal


def _swap(out: Path, staging: Path, journal: dict[str, Any]) -> None:
    """Move staged files into place, keeping each previous file in the staging folder; if
    anything fails or interrupts it, put every previous file back."""
    paths = _Paths(out)
    try:
        for rel in journal["moves"]:
            target = paths.target(rel) if rel != RECORD else out / RECORD
            if target.is_file():
                backup = staging / "old" / rel
                backup.parent.mkdir(parents=True, exist_ok=True)
                target.replace(backup)
            if rel in journal["sha256"]:
                target.parent.mkdir(parents=True, exist_ok=True)
                (staging / "new" / rel).replace(target)
    except BaseException:
        with _shielded():
            _roll_back(out, staging, journal)
        raise


def _roll_back(out: Path, staging: Path, journal: dict[str, Any]) -> None:
    """Put the folder back as the journal found it. Works from what is on disk, so it is right
    wherever the moves stopped (even between a rename and the line after it)."""
    for rel in reversed(journal["moves"]):
        target = out / rel
        backup = staging / "old" / rel
        if backup.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            backup.replace(target)
        elif (rel in journal["created"] and target.is_file() and not target.is_symlink()
              and not (staging / "new" / rel).exists()
              and _sha(target.read_bytes()) == journal["sha256"].get(rel)):
            target.unlink()
    for folder in journal["createdFolders"]:
        with contextlib.suppress(OSError):
            (out / folder).rmdir()  # only if empty: nothing but the render's files was there


def recover(out: Path) -> None:
    """Undo renders that were killed midway (their staging folders are still in `out`); call it
    under the lock."""
    for staging in sorted(out.glob(f"{STAGING_PREFIX}*")):
        if staging.is_dir() and not staging.is_symlink():
            journal = _read_journal(staging)
            if journal is not None:  # else killed while staging or after the commit point
                with _shielded():
                    _roll_back(out, staging, journal)
            shutil.rmtree(staging, ignore_errors=True)


def _read_journal(staging: Path) -> dict[str, Any] | None:
    try:
        journal = json.loads((staging / JOURNAL).read_text(encoding="utf-8"))
        names = [*journal["moves"], *journal["created"], *journal["createdFolders"],
                 *journal["sha256"]]
        if all(isinstance(n, str) and (n == RECORD or _valid_rel(n)) for n in names) and all(
                isinstance(v, str) for v in journal["sha256"].values()):
            return dict(journal)
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError, AttributeError):
        pass
    raise OutputError(f"{staging} holds an unreadable journal of an interrupted render; "
                      "restore the output folder from Git and delete it")


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


def drift(out: Path, files: dict[str, str], owners: dict[str, str], scope: set[str]
          ) -> list[str]:
    """The files in `out` that differ from a fresh render, the record included (for --check):
    what `apply` would write or remove."""
    todo = changes(out, files, owners, scope)
    stale = todo.stale
    record_path = out / RECORD
    if not record_path.is_file() or record_path.read_text("utf-8") != record_text(todo.record):
        stale = sorted({*stale, RECORD})
    return stale


def diff(out: Path, files: dict[str, str], owners: dict[str, str], scope: set[str],
         shown: str | None = None) -> str:
    """A unified diff from the files in `out` to the rendered ones, the record included (for
    --diff; empty when `drift` finds nothing). `shown`: see `unified_diff`."""
    return unified_diff(out, changes(out, files, owners, scope), shown)
