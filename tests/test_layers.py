"""The floor plan holds: the folders under `src/aiplat_gen` are the layers of the pipeline, a
module imports only from its own layer or below (`[tool.importlinter]` in pyproject.toml), and
no group of modules imports itself round, even through imports guarded by TYPE_CHECKING."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import grimp

from conftest import REPO

BIN = Path(sys.executable).parent
PACKAGE = REPO / "src" / "aiplat_gen"


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))
    contracts: list[dict[str, object]] = config["tool"]["importlinter"]["contracts"]
    return contracts


def test_import_linter_contracts_hold() -> None:
    proc = subprocess.run([str(BIN / "lint-imports"), "--no-cache"], cwd=REPO,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]


def test_every_folder_and_module_is_a_layer() -> None:
    """A new top-level folder or module must be given its place in the layers."""
    layers = next(c for c in _contracts() if c["type"] == "layers")["layers"]
    assert isinstance(layers, list)
    present = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
               if (p.is_dir() and (p / "__init__.py").is_file())
               or (p.suffix == ".py" and p.stem != "__init__")}
    assert present == set(layers)


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(
                        child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_module_cycles() -> None:
    graph = grimp.build_graph("aiplat_gen", include_external_packages=False)
    assert _cycles(graph) == []


def test_a_cycle_is_found() -> None:
    """The cycle finder sees a cycle when there is one (so the test above can fail)."""
    graph = grimp.build_graph("aiplat_gen", include_external_packages=False)
    graph.add_import(importer="aiplat_gen.core.errors", imported="aiplat_gen.cli")
    cycles = _cycles(graph)
    assert cycles and "aiplat_gen.core.errors" in cycles[0] and "aiplat_gen.cli" in cycles[0]
