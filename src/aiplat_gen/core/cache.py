"""aiplat-gen's cache folder, shared by `check` (schemas, builds) and `simulate` (etcd
snapshots with the CRDs installed)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from aiplat_gen.core.errors import ExitCode, UsageError


class CacheError(UsageError):
    """The cache folder cannot be used (a file in its place, read-only): a problem of the
    environment, not of the profile (exit 2)."""

    exit_code = ExitCode.USAGE


def cache_dir() -> Path:
    """aiplat-gen's cache folder: `$AIPLAT_GEN_CACHE`, else `$XDG_CACHE_HOME/aiplat-gen`, else
    `~/.cache/aiplat-gen`. Kubernetes schemas go to its `schemas/` folder."""
    if explicit := os.environ.get("AIPLAT_GEN_CACHE"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "aiplat-gen"


def usable_cache_dir() -> Path:
    """`cache_dir()`, created if needed, after proving that a file can be written in it."""
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".probe-", dir=folder)
        os.close(fd)
        Path(probe).unlink()
    except OSError as exc:
        raise CacheError(f"cache folder {folder} is not a writable folder "
                         f"({exc.strerror or exc}); set AIPLAT_GEN_CACHE to one") from None
    return folder
