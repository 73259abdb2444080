"""The weights pre-pull init container: download pinned revisions, verify them, or fail the pod.

For every item of `AIPLAT_PREFETCH` (a JSON list of `{repo, revision, sha256, dir}`) the script

1. downloads the Hub repository at the pinned commit into `dir` with `huggingface_hub`
   (`snapshot_download(..., local_dir=dir)`, which skips files already present), unless an
   earlier start of the pod already verified that revision there (`.aiplat-verified` holds its
   manifest sha256), so restarts need no network;
2. builds the weights manifest, `sha256sum` lines (`<sha256>  ./<path>`) of every regular file
   but the Hub's `.cache/` folder, sorted by path, and hashes it; the same value comes out of
   `cd <dir> && find . -type f ! -path './.cache/*' ! -name .aiplat-verified | LC_ALL=C sort |
   xargs -d '\\n' sha256sum | sha256sum`;
3. exits 1 with both digests when the manifest differs from the pinned sha256: the pod's server
   never starts on weights that are not the reviewed ones.

The manifest is re-hashed on every start (files are hashed in parallel threads): a volume that
was altered after the first verification is caught too. Replicas sharing one ReadWriteMany
volume may download at the same time; `huggingface_hub` serialises them with file locks in the
folder's `.cache/`, so the volume needs working advisory locks (NFSv4 and EFS have them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

SCRIPT = """\
import concurrent.futures, hashlib, json, os, pathlib, sys
MARK = ".aiplat-verified"

def manifest(root):
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                   if p.is_file() and not p.is_symlink() and p.name != MARK
                   and p.relative_to(root).parts[0] != ".cache")
    def digest(rel):
        h = hashlib.sha256()
        with open(root / rel, "rb") as f:
            for block in iter(lambda: f.read(1 << 24), b""):
                h.update(block)
        return h.hexdigest()
    with concurrent.futures.ThreadPoolExecutor(min(32, os.cpu_count() or 4)) as pool:
        digests = list(pool.map(digest, files))
    return "".join(f"{d}  ./{rel}\\n" for d, rel in zip(digests, files))

for item in json.loads(os.environ["AIPLAT_PREFETCH"]):
    root = pathlib.Path(item["dir"])
    root.mkdir(parents=True, exist_ok=True)
    mark = root / MARK
    if not mark.is_file() or mark.read_text().strip() != item["sha256"]:
        from huggingface_hub import snapshot_download
        snapshot_download(repo_id=item["repo"], revision=item["revision"], local_dir=root)
    text = manifest(root)
    actual = hashlib.sha256(text.encode()).hexdigest()
    if actual != item["sha256"]:
        sys.stderr.write(f"{item['repo']}@{item['revision']}: weights manifest sha256 {actual}"
                         f" does not match the pinned {item['sha256']}; manifest:\\n{text}")
        sys.exit(1)
    mark.write_text(actual + "\\n")
    print(f"verified {item['repo']}@{item['revision']} in {root} (manifest sha256 {actual})")
"""


@dataclass(frozen=True)
class PrefetchItem:
    """One repository revision to download into one folder of the weights volume."""

    repo: str
    revision: str
    sha256: str
    dir: str

    def as_dict(self) -> dict[str, str]:
        """The JSON form the script reads."""
        return {"repo": self.repo, "revision": self.revision, "sha256": self.sha256,
                "dir": self.dir}


def hub_repo(uri: str) -> str:
    """`hf://org/repo` -> `org/repo`."""
    return uri.removeprefix("hf://")


def prefetch_env(items: list[PrefetchItem]) -> dict[str, Any]:
    """The `AIPLAT_PREFETCH` environment variable of the init container."""
    return {"name": "AIPLAT_PREFETCH",
            "value": json.dumps([i.as_dict() for i in items], separators=(",", ":"))}
