"""Benchmark: render synthetic fleets of 1, 50 and 200 models and time the verbs people run.

    .venv/bin/python benchmarks/run.py [--sizes 1 50 200] [--repeat 3]

Each figure is the best of --repeat runs of a separate `aiplat-gen` process (wall time of the
whole process, peak resident memory of that process from wait4), with aiplat-gen byte-compiled
as an installed package is (`fleet.installed_env`). Targets (issue 9, 2 cores):
200 models under 1.0 s and 250 MiB with at least 3,000 objects/s; 200 models within 4.5x the
50-model time; `--help` under 0.2 s; `validate prod` under 0.3 s; `check` in-process at least
1,000 objects/s.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fleet import installed_env, timed, write_fleet  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED_CRDS = REPO.parent / "shared" / "schemas" / "crds"
ENV = installed_env()


def best(args: list[str], cwd: Path, repeat: int, fresh: Path | None = None
         ) -> tuple[float, float, str]:
    results = []
    for _ in range(repeat):
        if fresh is not None:
            shutil.rmtree(fresh, ignore_errors=True)
        results.append(timed(args, cwd, ENV))
    return min(results, key=lambda r: r[0])


def objects(out: str, pattern: str) -> int:
    match = re.search(pattern, out)
    return int(match.group(1)) if match else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 50, 200])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-check", action="store_true", help="skip the `check` timing")
    options = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="aiplat-bench-") as tmp:
        for size in options.sizes:
            work = Path(tmp) / f"fleet-{size}"
            write_fleet(work, size)
            wall, peak, out = best(["render", "--all"], work, options.repeat, work / "output")
            count = objects(out, r"output: (\d+) objects")
            wall_prod, peak_prod, out_prod = best(["render", "prod", "--out", "prod-only"], work,
                                                  options.repeat, work / "prod-only")
            count_prod = objects(out_prod, r"(\d+) objects")
            rows.append((size, wall, count, peak, wall_prod, count_prod, peak_prod))
        print(f"{'models':>6} | {'render --all':>12} | {'objects':>7} | {'objects/s':>9} | "
              f"{'peak MiB':>8} || {'render prod':>11} | {'objects':>7} | {'objects/s':>9} | "
              f"{'peak MiB':>8}")
        for size, wall, count, peak, wall_p, count_p, peak_p in rows:
            print(f"{size:>6} | {wall:>11.2f}s | {count:>7} | {count / wall:>9.0f} | "
                  f"{peak:>8.0f} || {wall_p:>10.2f}s | {count_p:>7} | {count_p / wall_p:>9.0f} | "
                  f"{peak_p:>8.0f}")
        by_size = {r[0]: r for r in rows}
        if 50 in by_size and 200 in by_size:
            print(f"growth 50 -> 200 models: render --all x{by_size[200][1] / by_size[50][1]:.2f}, "
                  f"render prod x{by_size[200][4] / by_size[50][4]:.2f} (target <= 4.5)")
        helper, _, _ = best(["--help"], REPO, options.repeat)
        validate, _, _ = best(["validate", "prod"], REPO, options.repeat)
        print(f"aiplat-gen --help: {helper:.3f}s (target < 0.2)")
        print(f"aiplat-gen validate prod (examples): {validate:.3f}s (target < 0.3)")
        if not options.no_check and SHARED_CRDS.is_dir():
            largest = Path(tmp) / f"fleet-{max(options.sizes)}"
            wall, _, out = best(["check", "--all", "--kubeconform", "none",
                                 "--schema-location", str(SHARED_CRDS)], largest, 1)
            count = objects(out, r"checked (\d+) objects")
            print(f"aiplat-gen check --all in-process ({max(options.sizes)} models): {wall:.2f}s, "
                  f"{count} objects, {count / wall:.0f} objects/s (target >= 1000)")


if __name__ == "__main__":
    main()
