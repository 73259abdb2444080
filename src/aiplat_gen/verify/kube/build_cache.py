"""A cache of `kustomize build` results, keyed by everything the build reads.

kustomize v5 takes time that grows faster than the number of objects (about 10 s for a folder of
1,900 objects; upstream issue kubernetes-sigs/kustomize#5084), so `check` keeps each build's
output in the cache folder, the way ArgoCD's repo server keeps generated manifests per commit. A
build is reused only when nothing it could read has changed: the key is a digest of every file and
folder name under the output folder, the folder's own path (kustomize messages may name it), the
target, the command, and the kustomize (or kubectl) binary's path, size and modification time.
The cache is used only for output trees that cannot read anything else: no symlinks, and
kustomizations that hold nothing but `resources` and `patches` naming existing files and folders
inside the tree (what aiplat-gen writes). Failed builds are never kept. The most recently used
entries are kept, the others removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from aiplat_gen.core import yamlio
from aiplat_gen.verify.kube.kustomize import Build

# Bump when the entry format or the key changes.
_FORMAT = 1
_KEEP = 32
_SUFFIX = ".json.z"
_KUSTOMIZATION_NAMES = frozenset({"kustomization.yaml", "kustomization.yml", "Kustomization"})
_KUSTOMIZATION_KEYS = frozenset({"apiVersion", "kind", "resources", "patches"})
_PATCH_KEYS = frozenset({"path", "patch", "target", "options"})


class BuildCache:
    """Build results of one output tree, stored under `folder`."""

    def __init__(self, folder: Path, out: Path, tree: str, command: Sequence[str]) -> None:
        self.folder = folder
        self._base = [_FORMAT, str(out.absolute()), tree, list(command), _identity(command[0])]

    @classmethod
    def open(cls, folder: Path, out: Path, command: Sequence[str]) -> BuildCache | None:
        """The cache for the tree in `out`, or None when a build of it could read something
        outside it (then every build runs)."""
        tree = tree_digest(out)
        return None if tree is None else cls(folder, out, tree, command)

    def key(self, target: str) -> str:
        """The entry name for building `target` (a folder relative to the output folder)."""
        text = json.dumps([*self._base, target], separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def get(self, key: str) -> Build | None:
        """The kept build, or None (never kept, or unreadable)."""
        path = self.folder / (key + _SUFFIX)
        try:
            data = json.loads(zlib.decompress(path.read_bytes()))
            build = Build(str(data["text"]), tuple(str(p) for p in data["problems"]),
                          bool(data["ok"]))
        except (OSError, zlib.error, ValueError, KeyError, TypeError):
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: kept longest
        return build

    def put(self, key: str, build: Build) -> None:
        """Keep a finished build (atomically; a failure to write only costs the next run a
        build). A failed build is not kept: it may not fail again."""
        if build.returncode != 0:
            return
        data = json.dumps({"text": build.text, "problems": list(build.problems), "ok": build.ok})
        with contextlib.suppress(OSError):
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=".tmp-", dir=self.folder)
            tmp = Path(name)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(zlib.compress(data.encode(), 1))
                tmp.replace(self.folder / (key + _SUFFIX))
            finally:
                tmp.unlink(missing_ok=True)

    def prune(self, keep: int = _KEEP) -> None:
        """Remove all but the `keep` most recently used entries."""
        with contextlib.suppress(OSError):
            entries = sorted(self.folder.glob("*" + _SUFFIX), key=_mtime, reverse=True)
            for path in entries[keep:]:
                with contextlib.suppress(OSError):
                    path.unlink()


def tree_digest(out: Path) -> str | None:
    """A digest of every file (name and bytes) and folder under `out`, or None when a build
    could read something outside it."""
    root = out.absolute()
    digest = hashlib.sha256()
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        here = Path(folder)
        for name in [*dirs, *files]:
            if (here / name).is_symlink():
                return None
        digest.update(f"d\0{here.relative_to(root).as_posix()}\0".encode())
        for name in sorted(files):
            path = here / name
            data = path.read_bytes()
            if name in _KUSTOMIZATION_NAMES and not _self_contained(data, here, root):
                return None
            digest.update(f"f\0{name}\0{len(data)}\0".encode())
            digest.update(data)
    return digest.hexdigest()


def _self_contained(data: bytes, here: Path, root: Path) -> bool:
    """True when a kustomization reads nothing but files and folders inside the tree."""
    try:
        docs = yamlio.load_all(data.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError):  # kustomize will report it; never cached
        return False
    if len(docs) != 1 or not isinstance(docs[0], dict) or set(docs[0]) - _KUSTOMIZATION_KEYS:
        return False
    doc: dict[str, Any] = docs[0]
    resources = doc.get("resources") or []
    patches = doc.get("patches") or []
    if not isinstance(resources, list) or not isinstance(patches, list):
        return False
    paths = list(resources)
    for patch in patches:
        if not isinstance(patch, dict) or set(patch) - _PATCH_KEYS:
            return False
        if "path" in patch:
            paths.append(patch["path"])
    return all(_inside(p, here, root) for p in paths)


def _inside(reference: object, here: Path, root: Path) -> bool:
    """True for a relative path that names an existing file or folder inside the tree (a
    missing one could be read by kustomize as a remote repository)."""
    if not isinstance(reference, str) or not reference or "://" in reference:
        return False
    if Path(reference).is_absolute() or reference.startswith("~"):
        return False
    target = Path(os.path.normpath(here / reference))
    return target.is_relative_to(root) and target.exists()


def _identity(binary: str) -> list[object]:
    try:
        real = Path(binary).resolve()
        stat = real.stat()
    except OSError:
        return [binary]
    return [str(real), stat.st_size, stat.st_mtime_ns]


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
