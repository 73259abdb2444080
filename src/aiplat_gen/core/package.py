"""What this installation of aiplat-gen is made of: where its templates are, and a fingerprint of
everything that shapes its output (its code and templates, the Python and the libraries it runs
on), so that a result may be reused only by the very same tool."""

from __future__ import annotations

import functools
import hashlib
import os
import sys
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]


def templates_dir() -> Path:
    """The templates shipped with the package; from a source checkout, the top-level folder."""
    packaged = _PACKAGE / "templates"  # an installed wheel (pyproject: force-include)
    if packaged.is_dir():
        return packaged
    checkout = _PACKAGE.parents[1] / "templates"
    if checkout.is_dir():
        return checkout
    raise RuntimeError("aiplat-gen's templates are missing from the installation")


def _tree_files(root: Path) -> list[Path]:
    """Every file below root, sorted, bytecode caches left out."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        found.extend(Path(folder) / f for f in sorted(files) if not f.endswith(".pyc"))
    return found


def _libraries() -> list[str]:
    """The distributions installed beside aiplat-gen (`Jinja2-3.1.6.dist-info` ...): a library
    upgrade may change rendered bytes (a YAML emitter's quoting), so it changes the fingerprint."""
    names: set[str] = set()
    for entry in sys.path:
        try:
            with os.scandir(entry or ".") as listing:
                names.update(e.name for e in listing if e.name.endswith(".dist-info"))
        except OSError:
            continue
    return sorted(names)


@functools.cache  # the installation does not change while a command runs
def fingerprint() -> str:
    """sha256 of the package's files and templates (paths and bytes), the Python version and
    the installed libraries."""
    digest = hashlib.sha256()
    digest.update(sys.version.encode())
    for name in _libraries():
        digest.update(name.encode() + b"\0")
    for root in dict.fromkeys((_PACKAGE, templates_dir())):
        for path in _tree_files(root):
            digest.update(str(path.relative_to(root)).encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
