"""Benchmark `aiplat-gen check` on a synthetic fleet: cold (no kept builds) and warm, in-process
and with kubeconform.

    .venv/bin/python benchmarks/check_bench.py [--models 200] [--repeat 2] [--no-kubeconform]

It writes a fleet of --models models (benchmarks/fleet.py), renders it, and times whole
`aiplat-gen check --all` processes (wall time, peak resident memory from wait4). "cold" empties
the kept kustomize builds and parsed documents first (the Kubernetes schemas stay prepared);
"warm" runs again on the unchanged tree. Target (issue 9, 2 cores): in-process at least 1,000
objects/s. kustomize v5 itself takes most of a cold run (about 10 s per folder of 1,900 objects).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fleet import installed_env, timed, write_fleet  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED_CRDS = REPO.parent / "shared" / "schemas" / "crds"


def forget(cache: Path) -> None:
    """Empty what makes a run warm, keeping the prepared Kubernetes schemas."""
    shutil.rmtree(cache / "kustomize", ignore_errors=True)
    (cache / "check-documents.json.z").unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=2, help="best of this many runs")
    parser.add_argument("--no-kubeconform", action="store_true")
    options = parser.parse_args()
    if not SHARED_CRDS.is_dir():
        raise SystemExit(f"{SHARED_CRDS} is missing: the CRD schemas are needed")
    validators = ["none"]
    kubeconform = REPO / ".tools" / "bin" / "kubeconform"
    if not options.no_kubeconform and kubeconform.is_file():
        validators.append(str(kubeconform))
    with tempfile.TemporaryDirectory(prefix="aiplat-check-bench-") as tmp:
        work, cache = Path(tmp) / "fleet", Path(tmp) / "cache"
        env = installed_env({"AIPLAT_GEN_CACHE": str(cache)})
        write_fleet(work, options.models)
        timed(["render", "--all"], work, env)
        rows = []
        for validator in validators:
            args = ["check", "--all", "--kubeconform", validator,
                    "--schema-location", str(SHARED_CRDS)]
            timed(args, work, env)  # prepares the Kubernetes schemas once
            for mode in ("cold", "warm"):
                runs = []
                for _ in range(options.repeat):
                    if mode == "cold":
                        forget(cache)  # (the last cold run leaves the warm state)
                    runs.append(timed(args, work, env))
                wall, peak, out = min(runs, key=lambda r: r[0])
                match = re.search(r"checked (\d+) objects", out)
                count = int(match.group(1)) if match else 0
                name = "in-process" if validator == "none" else "kubeconform"
                rows.append((name, mode, count, wall, peak))
    print(f"check --all, {options.models} models, {os.cpu_count()} cores, best of "
          f"{options.repeat}")
    print(f"{'validator':>11} | {'run':>4} | {'objects':>7} | {'seconds':>7} | "
          f"{'objects/s':>9} | {'peak MiB':>8}")
    for name, mode, count, wall, peak in rows:
        print(f"{name:>11} | {mode:>4} | {count:>7} | {wall:>7.2f} | {count / wall:>9.0f} | "
              f"{peak:>8.0f}")


if __name__ == "__main__":
    main()
