"""Fleet speed (issue 18): the 200-model fleet rendered cold, unchanged and with one model
changed, a 1,000-model fleet, `validate prod` and `--help`, for this checkout and, with
--baseline REF, for another commit of aiplat-gen, side by side in one run.

    .venv/bin/python benchmarks/speed.py [--baseline REF] [--repeat 5] [--large 1000]

Every figure is the median of --repeat runs of a separate `python -m aiplat_gen` process (wall
time of the whole process; peak resident memory of that process, from wait4), both trees
byte-compiled as an installed package is. The two trees' runs alternate, step by step, so both
meet the same moments of a machine whose speed drifts. The fleet is `benchmarks/fleet.py`'s
(the example platform with N vLLM models and dev, staging and prod environments); `render base`
writes the root's files (the output README sums up every environment, so all four are
rendered).

- cold: empty output folder and an empty cache folder (AIPLAT_GEN_CACHE), so nothing is reused;
- unchanged: the output folder as the previous render left it, its cache kept;
- one model changed: each run changes one model's maxModelLen in base.yaml (alternating two
  values), then renders.

- floors: what a cold render and a one-model change cannot go below with this design, the
  steps every render must take with nothing else: Python importing the stack's libraries and
  aiplat-gen's modules (whole processes), then, in one process, loading and validating the
  fleet's four profiles and creating the output's files with plain writes. A target below its
  floor needs a different design, not a faster step.

The load average is printed before and after: figures from a busy machine are not comparable.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fleet import write_fleet  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

TARGETS = {  # issue 18, on this 2-core machine
    "cold objects/s": 2500.0,
    "unchanged s": 0.35,
    "peak MiB": 150.0,
    "one model changed s": 0.4,
    "large peak MiB": 500.0,
    "linearity": 1.2,
    "validate prod s": 0.25,
    "help s": 0.1,
}


@dataclass(frozen=True)
class Tool:
    """One aiplat-gen source tree to time."""

    label: str
    root: Path  # holds src/, templates/ and the example profiles/

    def env(self, cache: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        return {**env, "PYTHONPATH": str(self.root / "src"), "AIPLAT_GEN_CACHE": str(cache)}


def run(tool: Tool, args: list[str], cwd: Path, cache: Path) -> tuple[float, float, str]:
    """(wall seconds, peak MiB, output) of one whole process; it must exit 0."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "aiplat_gen", *args], cwd=cwd,
                            env=tool.env(cache), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{tool.label}: aiplat-gen {' '.join(args)} failed:\n{out[-3000:]}")
    return wall, usage.ru_maxrss / 1024, out


def objects(out: str) -> int:
    match = re.search(r"(\d+) objects", out)
    if not match:
        raise SystemExit(f"no object count in:\n{out[-2000:]}")
    return int(match.group(1))


@dataclass
class Bench:
    """One tool, its own copies of the fleets, and the samples taken of it."""

    tool: Tool
    work: Path  # the 200-model fleet
    large: Path  # the 1,000-model fleet
    samples: dict[str, list[float]] = field(default_factory=dict)

    @property
    def cache(self) -> Path:
        return self.work / "cache"

    def add(self, **values: float) -> None:
        for key, value in values.items():
            self.samples.setdefault(key, []).append(value)

    def render(self, folder: Path, cache: Path) -> tuple[float, float, str]:
        return run(self.tool, ["render", "base"], folder, cache)

    def refresh(self) -> None:
        self.render(self.work, self.cache)

    def cold(self) -> None:
        for folder in (self.work / "output", self.cache):
            shutil.rmtree(folder, ignore_errors=True)
        wall, peak, text = self.render(self.work, self.cache)
        self.add(**{"cold s": wall, "peak MiB": peak, "objects": objects(text)})

    def unchanged(self) -> None:
        self.add(**{"unchanged s": self.render(self.work, self.cache)[0]})

    def one_model_changed(self) -> None:
        base = self.work / "profiles" / "base.yaml"
        text = base.read_text("utf-8")
        # alternating two values: each run has one model to render anew
        old, new = ("8192", "4096") if "maxModelLen: 8192" in text else ("4096", "8192")
        base.write_text(text.replace(f"maxModelLen: {old}", f"maxModelLen: {new}", 1), "utf-8")
        self.add(**{"one model changed s": self.render(self.work, self.cache)[0]})

    def large_cold(self) -> None:
        cache = self.large / "cache"
        for folder in (self.large / "output", cache):
            shutil.rmtree(folder, ignore_errors=True)
        wall, peak, text = self.render(self.large, cache)
        self.add(**{"large s": wall, "large peak MiB": peak, "large objects": objects(text)})

    def validate_prod(self) -> None:
        wall = run(self.tool, ["validate", "prod"], self.tool.root, self.cache)[0]
        self.add(**{"validate prod s": wall})

    def help(self) -> None:
        self.add(**{"help s": run(self.tool, ["--help"], self.tool.root, self.cache)[0]})

    def floors(self) -> None:
        self.add(**floors(self.tool, self.work))

    def figures(self) -> dict[str, float]:
        """Medians of the samples (peaks: the largest), and the figures derived from them."""
        figures = {key: (max if "MiB" in key else statistics.median)(values)
                   for key, values in self.samples.items()}
        figures["cold objects/s"] = figures["objects"] / figures["cold s"]
        figures["linearity"] = figures["large s"] / (5 * figures["cold s"])
        return figures


# (step, runs): each step runs for every tool in turn, `runs` times (None: --repeat), so the
# tools share the machine's drift instead of one of them meeting a slow minute alone.
STEPS: list[tuple[Callable[[Bench], None], int | None]] = [
    (Bench.cold, None),
    (Bench.refresh, 1),  # leaves output/ and the cache current
    (Bench.unchanged, None),
    (Bench.one_model_changed, None),
    (Bench.large_cold, 1),
    (Bench.validate_prod, None),
    (Bench.help, None),
    (Bench.refresh, 1),  # the floors read output/
    (Bench.floors, None),
]


def measure(benches: list[Bench], repeat: int) -> dict[str, dict[str, float]]:
    """Every figure of every tool, the tools' runs interleaved."""
    for step, runs in STEPS:
        for _ in range(runs or repeat):
            for bench in benches:
                step(bench)
    return {bench.tool.label: bench.figures() for bench in benches}


# In-process, in the fleet's folder after a render: how long validating the fleet's profiles
# and creating its output files take, with nothing else (imports excluded).
_FLOOR_SCRIPT = """
import json, os, shutil, sys, tempfile, time
from aiplat_gen.checks.selection import select, validate_many
try:
    from aiplat_gen.core.settings import Settings
except ImportError:  # before issue 18's work (5bd4703), Settings lived with select
    from aiplat_gen.checks.selection import Settings
start = time.perf_counter()
validate_many(select([], True, Settings()), with_parents=True)
validated = time.perf_counter() - start
files = {}
for folder, _, names in os.walk("output"):
    for name in names:
        path = os.path.join(folder, name)
        with open(path, "rb") as handle:
            files[os.path.relpath(path, "output")] = handle.read()
target = tempfile.mkdtemp(dir=".")
start = time.perf_counter()
made = set()
for rel, data in files.items():
    path = os.path.join(target, rel)
    if os.path.dirname(path) not in made:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        made.add(os.path.dirname(path))
    with open(path, "wb") as handle:
        handle.write(data)
created = time.perf_counter() - start
shutil.rmtree(target)
print(json.dumps({"validate": validated, "create": created}))
"""
_STACK = "import typer, pydantic, jinja2, yaml"  # what the stack imports before aiplat-gen
_MODULES = ("import aiplat_gen.cli, aiplat_gen.commands.render, aiplat_gen.checks.selection, "
            "aiplat_gen.output.tree, aiplat_gen.render.pipeline, aiplat_gen.reports.summary")


def python_seconds(tool: Tool, code: str, cwd: Path) -> float:
    """Wall time of `python -c code`."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=cwd, env=tool.env(cwd / "cache"),
                   check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def floors(tool: Tool, work: Path) -> dict[str, float]:
    """One sample of what a cold render and a one-model change cannot go below with this
    design: the interpreter with the stack's libraries, aiplat-gen's modules, validating the
    fleet's profiles, creating its files (the fleet's output folder rendered)."""
    stack = python_seconds(tool, _STACK, work)
    modules = python_seconds(tool, f"{_STACK}; {_MODULES}", work)
    done = subprocess.run([sys.executable, "-c", _FLOOR_SCRIPT], cwd=work,
                          env=tool.env(work / "cache"), check=True, capture_output=True,
                          text=True)
    steps = json.loads(done.stdout)
    return {"floor stack s": stack, "floor modules s": modules,
            "floor validate s": steps["validate"], "floor create s": steps["create"],
            "floor cold s": modules + steps["validate"] + steps["create"],
            "floor changed s": modules + steps["validate"]}


def checkout(ref: str, into: Path) -> Path:
    """aiplat-gen at ref (src/, templates/, profiles/), byte-compiled. (The fleet is built from
    this checkout's examples, so ref must accept them.)"""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref, "src", "templates",
                              "profiles"],
                             check=True, capture_output=True).stdout
    into.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    compileall.compile_dir(str(into / "src"), quiet=1)
    return into


ROWS = [  # (label, key, format, target comparison)
    ("render base, cold: objects", "objects", "{:.0f}", None),
    ("render base, cold: seconds", "cold s", "{:.2f}", None),
    ("render base, cold: objects/s", "cold objects/s", "{:.0f}", ">="),
    ("render base, cold: peak MiB", "peak MiB", "{:.0f}", "<"),
    ("render base, unchanged: seconds", "unchanged s", "{:.3f}", "<"),
    ("render base, one model changed: seconds", "one model changed s", "{:.2f}", "<"),
    ("1,000 models, cold: seconds", "large s", "{:.2f}", None),
    ("1,000 models, cold: objects", "large objects", "{:.0f}", None),
    ("1,000 models, cold: peak MiB", "large peak MiB", "{:.0f}", "<"),
    ("1,000 models / (5 x 200 models)", "linearity", "{:.2f}", "<="),
    ("validate prod (examples): seconds", "validate prod s", "{:.3f}", "<"),
    ("--help: seconds", "help s", "{:.3f}", "<"),
    ("floor: python + typer, pydantic, jinja2, yaml", "floor stack s", "{:.3f}", None),
    ("floor: ... + aiplat-gen's render modules", "floor modules s", "{:.3f}", None),
    ("floor: loading and validating the 4 profiles", "floor validate s", "{:.3f}", None),
    ("floor: creating the output's files", "floor create s", "{:.3f}", None),
    ("floor of a cold render (imports+validate+create)", "floor cold s", "{:.2f}", "<="),
    ("floor of one model changed (imports+validate)", "floor changed s", "{:.2f}", "<"),
]


def budgets(figures: dict[str, float]) -> dict[str, float]:
    """The targets with the time the floors must leave room in: a cold render of the fleet at
    2,500 objects/s has objects/2500 seconds (0.84 s for 2,097 objects), a one-model change
    0.4 s."""
    return {**TARGETS, "floor cold s": figures["objects"] / TARGETS["cold objects/s"],
            "floor changed s": TARGETS["one model changed s"]}


def met(key: str, value: float, how: str | None, targets: dict[str, float]) -> str:
    if how is None:
        return ""
    target = targets[key]
    ok = value >= target if how == ">=" else value <= target if how == "<=" else value < target
    return f"{how} {round(target, 3):g}: {'met' if ok else 'NOT met'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="a commit of this repository to time beside HEAD's "
                        "working tree (e.g. the commit before a change)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--large", type=int, default=1000)
    options = parser.parse_args()
    compileall.compile_dir(str(REPO / "src"), quiet=1)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"{os.cpu_count()} cores; Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="aiplat-speed-") as tmp:
        tools = [Tool("current", REPO)]
        if options.baseline:
            tools.insert(0, Tool(f"baseline {options.baseline}",
                                 checkout(options.baseline, Path(tmp) / "baseline")))
        benches = []
        for index, tool in enumerate(tools):
            bench = Bench(tool, Path(tmp) / f"fleet-{index}", Path(tmp) / f"large-{index}")
            write_fleet(bench.work, options.models)
            write_fleet(bench.large, options.large)
            benches.append(bench)
        columns = measure(benches, options.repeat)
    width = max(len(r[0]) for r in ROWS)
    labels = list(columns)
    print(f"{'':{width}} | " + " | ".join(f"{label:>24}" for label in labels) + " | target")
    current = columns[labels[-1]]
    targets = budgets(current)
    for label, key, fmt, how in ROWS:
        cells = " | ".join(f"{fmt.format(columns[t][key]):>24}" for t in labels)
        print(f"{label:{width}} | {cells} | {met(key, current[key], how, targets)}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
