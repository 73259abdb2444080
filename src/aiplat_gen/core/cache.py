"""aiplat-gen's cache folder, shared by `check` (schemas, builds) and `simulate` (etcd
snapshots with the CRDs installed)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """aiplat-gen's cache folder: `$AIPLAT_GEN_CACHE`, else `$XDG_CACHE_HOME/aiplat-gen`, else
    `~/.cache/aiplat-gen`. Kubernetes schemas go to its `schemas/` folder."""
    if explicit := os.environ.get("AIPLAT_GEN_CACHE"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "aiplat-gen"
