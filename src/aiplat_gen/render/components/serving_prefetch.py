"""The weights script: download pinned Hub revisions into the weights volume, verify them once,
and let the servers start only on verified weights.

`AIPLAT_PREFETCH` is a JSON list of `{repo, revision, sha256, dir, allow, ignore}`. The script
runs in one of two modes (its first argument):

- `fetch`, in the weights Job (`weights_job`) or, for per-replica volumes, in the server pod's
  init container: for every item whose `dir` holds no marker for that revision and sha256, it
  deletes the stale marker, downloads the revision with `huggingface_hub`
  (`snapshot_download(repo_id, revision, local_dir=dir, allow_patterns=allow,
  ignore_patterns=ignore)`: only the files the engine loads, its descriptor's `WeightFiles`;
  files already present are skipped), builds the weights manifest and compares its sha256 with
  the pinned one. On a match it writes the marker `.aiplat-verified` atomically (a temporary
  file, fsync, `os.replace`) holding `{"revision", "sha256"}`; on a mismatch it exits 1 with
  both digests and the manifest, and writes no marker.
- `wait`, in the init container of a server pod whose volume the Job fills: it reads nothing but
  the markers, every 10 seconds, until each names the item's revision and sha256, then exits
  0. It needs no network and no token. Waiting inside the container (rather than exiting 1 and
  letting the kubelet restart it) keeps the pod in `Init:0/1` instead of
  `Init:CrashLoopBackOff` while a large download runs (Llama 3.1 70B: about 131 GiB), and
  starts the server within seconds of the marker. After `AIPLAT_WAIT_SECONDS` (`WAIT_SECONDS`,
  an hour) it exits 1 naming what it waits for, so a Job that never finishes shows as restarts
  of the init container.

A marker is trusted only for the exact (revision, sha256) it names: a restart with the same pins
neither downloads nor re-reads the weights (about 131 GiB for Llama 3.1 70B), a new revision
(another folder) or a new sha256 is downloaded and verified again. The volume is written only
by the fetch step; servers mount it read-only.

The weights manifest is `sha256sum` lines (`<sha256>  ./<path>`) of the downloaded files (the
regular files of `dir` matching `allow` and not `ignore`, which leaves out the Hub's `.cache/`
folder and the marker), sorted by path, and its sha256 is what `source.sha256` pins; the
procedure to compute it on a trusted copy is in `ModelSource`'s documentation. Replicas sharing
one ReadWriteMany volume may download at the same time (per-replica volumes aside, only the Job
downloads); `huggingface_hub` serialises writers with file locks in the folder's `.cache/`, so
the volume needs working advisory locks (NFSv4 and EFS have them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from aiplat_gen.platform.engines import WeightFiles

FETCH: Literal["fetch"] = "fetch"
WAIT: Literal["wait"] = "wait"
MARKER = ".aiplat-verified"
WAIT_SECONDS = 3600
"""How long the `wait` mode polls before it exits 1 (the kubelet then restarts it)."""

SCRIPT = """\
import concurrent.futures, fnmatch, hashlib, json, os, pathlib, sys, time
MARK = ".aiplat-verified"

def wanted(rel, item):
    allow, ignore = item["allow"], item["ignore"]
    return ((allow is None or any(fnmatch.fnmatchcase(rel, p) for p in allow))
            and not any(fnmatch.fnmatchcase(rel, p) for p in ignore))

def manifest(root, item):
    found = (p.relative_to(root).as_posix() for p in root.rglob("*")
             if p.is_file() and not p.is_symlink())
    files = sorted(rel for rel in found if rel not in (MARK, MARK + ".tmp")
                   and not rel.startswith(".cache/") and wanted(rel, item))
    def digest(rel):
        h = hashlib.sha256()
        with open(root / rel, "rb") as f:
            for block in iter(lambda: f.read(1 << 24), b""):
                h.update(block)
        return h.hexdigest()
    with concurrent.futures.ThreadPoolExecutor(min(32, os.cpu_count() or 4)) as pool:
        digests = list(pool.map(digest, files))
    return "".join(f"{d}  ./{rel}\\n" for d, rel in zip(digests, files))

def verified(root, item):
    try:
        mark = json.loads((root / MARK).read_text())
    except (OSError, ValueError):
        return False
    return mark == {"revision": item["revision"], "sha256": item["sha256"]}

def fetch(item):
    root = pathlib.Path(item["dir"])
    if verified(root, item):
        print(f"{item['repo']}@{item['revision']} already verified in {root}")
        return
    root.mkdir(parents=True, exist_ok=True)
    (root / MARK).unlink(missing_ok=True)
    from huggingface_hub import snapshot_download
    snapshot_download(repo_id=item["repo"], revision=item["revision"], local_dir=root,
                      allow_patterns=item["allow"], ignore_patterns=item["ignore"])
    text = manifest(root, item)
    actual = hashlib.sha256(text.encode()).hexdigest()
    if actual != item["sha256"]:
        sys.stderr.write(f"{item['repo']}@{item['revision']}: weights manifest sha256 {actual}"
                         f" does not match the pinned {item['sha256']}; manifest:\\n{text}")
        sys.exit(1)
    tmp = root / (MARK + ".tmp")
    with open(tmp, "w") as f:
        json.dump({"revision": item["revision"], "sha256": actual}, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, root / MARK)
    print(f"verified {item['repo']}@{item['revision']} in {root} (manifest sha256 {actual})")

items = json.loads(os.environ["AIPLAT_PREFETCH"])
if sys.argv[1] == "wait":
    deadline = time.monotonic() + int(os.environ.get("AIPLAT_WAIT_SECONDS", "0"))
    said = set()
    while True:
        missing = [i for i in items if not verified(pathlib.Path(i["dir"]), i)]
        if not missing:
            sys.exit(0)
        for i in missing:
            if i["dir"] not in said:
                said.add(i["dir"])
                sys.stderr.write(f"waiting for the weights Job to verify"
                                 f" {i['repo']}@{i['revision']} into {i['dir']}\\n")
        if time.monotonic() >= deadline:
            sys.stderr.write("gave up waiting; the kubelet restarts this container\\n")
            sys.exit(1)
        time.sleep(10)
for item in items:
    fetch(item)
"""


@dataclass(frozen=True)
class PrefetchItem:
    """One repository revision to download into one folder of the weights volume."""

    repo: str
    revision: str
    sha256: str
    dir: str
    files: WeightFiles | None
    """The files the engine loads; None: the whole repository."""

    def as_dict(self) -> dict[str, Any]:
        """The JSON form the script reads."""
        return {"repo": self.repo, "revision": self.revision, "sha256": self.sha256,
                "dir": self.dir,
                "allow": list(self.files.allow) if self.files is not None else None,
                "ignore": list(self.files.ignore) if self.files is not None else []}


def hub_repo(uri: str) -> str:
    """`hf://org/repo` -> `org/repo`."""
    return uri.removeprefix("hf://")


def prefetch_env(items: list[PrefetchItem]) -> dict[str, Any]:
    """The `AIPLAT_PREFETCH` environment variable of the fetch and wait containers."""
    return {"name": "AIPLAT_PREFETCH",
            "value": json.dumps([i.as_dict() for i in items], separators=(",", ":"))}


def script_command(mode: Literal["fetch", "wait"]) -> list[str]:
    """The container command running the script in one mode (`python3 -c SCRIPT <mode>`)."""
    return ["python3", "-c", SCRIPT, mode]
