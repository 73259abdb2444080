"""What the writer trusts: its record of owned files and the journals of its staging folders.

Both are read strictly: the exact structure the writer writes, and only paths of the tree's
layout inside the output folder. A file counts as the tool's own only when three things agree:
the record lists it, its bytes have the sha256 the record gives, and it carries the tool's
stamp (every rendered file says "Rendered by aiplat-gen" in its first lines). Anything else is
foreign: never overwritten, never deleted.

Why the record carries no identity of the folder it was written for: the record is committed
with the output and travels with every clone, so a device/inode pair would differ on each
checkout (and `render --check` would report the record stale), and a random id would be copied
along with it. Its authority is bounded by content instead: a crafted or copied record can at
most name a file of the tree's layout that is byte for byte the stamped text it claims.

Staging folders and their journals never leave the machine: they name the output folder they
were made in (its device and inode) and the inode of every file the render created, so a journal
copied from elsewhere or made by hand cannot make the next render delete or replace a file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath
from typing import Any

from aiplat_gen.core import tree_paths
from aiplat_gen.core.errors import OutputError

RECORD = tree_paths.RECORD
STAGING_PREFIX = ".aiplat-gen-staging-"
JOURNAL = "journal.json"
OWNER = "owner.json"
# The stamp of every rendered file: output/layout.py HEADER and reports/summary.py (README.md).
STAMP = b"Rendered by aiplat-gen"
_STAMP_WINDOW = 1024
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_PROFILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$")
_LAYOUT_FOLDERS = frozenset({tree_paths.BASE, tree_paths.OVERLAYS, tree_paths.HELM,
                             tree_paths.ARGOCD})
_JOURNAL_KEYS = {"moves", "created", "createdFolders", "sha256", "folder", "inodes"}

Record = dict[str, dict[str, str]]


def valid_rel(rel: str) -> bool:
    """A path the tool may own: relative, normalised, inside the folder, in the tree's layout
    (`base/`, `overlays/`, `helm/`, `argocd/` .yaml files, or README.md). (Plain string tests:
    a render checks every path several times; `tests/test_output_safety.py` holds this to the
    PurePosixPath reading.)"""
    if rel == tree_paths.README:
        return True
    if "\\" in rel or "\x00" in rel or not rel.endswith(".yaml"):
        return False
    parts = rel.split("/")
    return (len(parts) >= 2 and parts[0] in _LAYOUT_FOLDERS
            and all(part not in ("", ".", "..") for part in parts))


def stamped(data: bytes) -> bool:
    """Whether a file's bytes carry the tool's stamp near the top."""
    return STAMP in data[:_STAMP_WINDOW]


def folder_id(out: Path) -> list[int]:
    """The identity of the output folder on this machine: its device and inode."""
    info = out.lstat()
    return [info.st_dev, info.st_ino]


def _invalid_record(path: Path, why: str) -> OutputError:
    return OutputError(
        f"{path} is not a valid aiplat-gen record: {why} (restore it from Git, e.g. "
        f"`git checkout -- {path}`, or delete it: aiplat-gen then treats every file in "
        f"{path.parent} as not its own)")


def read_record(out: Path) -> Record:
    """The files the tool owns in `out`, from its record (empty when there is none)."""
    path = out / RECORD
    if not path.exists() and not path.is_symlink():
        return {}
    if path.is_symlink() or not path.is_file():
        kind = "a symlink" if path.is_symlink() else "not a regular file"
        raise OutputError(f"{path} is {kind}; refusing to use it")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise OutputError(f"cannot read {path}: {(exc.strerror or str(exc)).lower()}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except ValueError:
        raise _invalid_record(path, "not JSON") from None
    return _check_record(path, data)


def _check_record(path: Path, data: Any) -> Record:
    if not isinstance(data, dict) or set(data) != {"files", "generator", "version"}:
        raise _invalid_record(path, 'expected exactly the keys "files", "generator", "version"')
    if data["generator"] != "aiplat-gen" or data["version"] != 1:
        raise _invalid_record(path, 'expected "generator": "aiplat-gen" and "version": 1')
    files = data["files"]
    if not isinstance(files, dict):
        raise _invalid_record(path, '"files" is not an object')
    record: Record = {}
    for rel, entry in files.items():
        if not valid_rel(rel) or rel == RECORD:
            raise _invalid_record(path, f"it lists {rel!r}, which is not a file inside the "
                                  "output folder that aiplat-gen writes")
        if (not isinstance(entry, dict) or set(entry) != {"profile", "sha256"}
                or not isinstance(entry["profile"], str) or not isinstance(entry["sha256"], str)
                or not _PROFILE.match(entry["profile"]) or not _SHA256.match(entry["sha256"])):
            raise _invalid_record(path, f"the entry of {rel!r} is not "
                                  '{"profile": <name>, "sha256": <64 hex digits>}')
        record[rel] = {"profile": entry["profile"], "sha256": entry["sha256"]}
    return record


def record_text(record: Record) -> str:
    """The record file's content: sorted, stable JSON."""
    return json.dumps({"generator": "aiplat-gen", "version": 1, "files": record},
                      indent=2, sort_keys=True) + "\n"


def _not_ours(staging: Path, why: str) -> OutputError:
    return OutputError(
        f"{staging} {why}; aiplat-gen does not trust it and changed nothing (if a render of this "
        "folder was killed, restore the output folder from Git; then move that folder out of "
        "the output folder or delete it)")


def read_owner(staging: Path, out: Path) -> bool:
    """Whether a staging folder was made by the tool in this output folder (its owner marker
    names the folder's identity). Raises when it names another folder or is malformed;
    False when there is no marker."""
    try:
        data = json.loads((staging / OWNER).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False
    except (OSError, ValueError):
        raise _not_ours(staging, "holds an unreadable owner marker") from None
    if not isinstance(data, dict) or data != {"folder": folder_id(out)}:
        raise _not_ours(staging, "was not made by aiplat-gen in this output folder")
    return True


def read_journal(staging: Path, out: Path) -> dict[str, Any] | None:
    """The journal of a render killed midway, checked strictly (None when there is none)."""
    try:
        journal = json.loads((staging / JOURNAL).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        raise _not_ours(staging, "holds an unreadable journal of an interrupted render") from None
    problem = _journal_problem(journal, folder_id(out))
    if problem:
        raise _not_ours(staging, f"holds a journal that {problem}")
    return dict(journal)


def _journal_problem(journal: Any, folder: list[int]) -> str:
    """What is wrong with a journal ("" when nothing)."""
    if not isinstance(journal, dict) or set(journal) != _JOURNAL_KEYS:
        return "does not have the structure aiplat-gen writes"
    if journal["folder"] != folder:
        return "was written for another output folder"
    moves, created, folders = journal["moves"], journal["created"], journal["createdFolders"]
    sha, inodes = journal["sha256"], journal["inodes"]
    if not (isinstance(moves, list) and isinstance(created, list) and isinstance(folders, list)
            and isinstance(sha, dict) and isinstance(inodes, dict)):
        return "does not have the structure aiplat-gen writes"
    if not all(isinstance(rel, str) and (rel == RECORD or valid_rel(rel)) for rel in moves) or (
            len(set(moves)) != len(moves)):
        return "names a path that aiplat-gen does not write"
    if not (set(created) <= set(moves) and set(sha) <= set(moves) and set(inodes) <= set(sha)):
        return "names files outside its own moves"
    if not all(isinstance(v, str) and _SHA256.match(v) for v in sha.values()):
        return "does not have the structure aiplat-gen writes"
    if not all(isinstance(v, list) and len(v) == 2 and all(type(n) is int for n in v)
               for v in inodes.values()):
        return "does not have the structure aiplat-gen writes"
    parents = {str(p) for rel in moves for p in PurePosixPath(rel).parents if str(p) != "."}
    if not all(isinstance(f, str) and f in parents for f in folders):
        return "names folders outside its own moves"
    return ""
