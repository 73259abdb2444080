"""The output tree as a model: every written path comes from `core.tree_paths`, and a target
added to the list shows up in the tree without changing the others."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aiplat_gen.checks.selection import family, select, validate_many
from aiplat_gen.core.settings import Settings
from aiplat_gen.output import tree
from aiplat_gen.output.tree import DEFAULT_TARGETS, Tree, Unit, lay_out, paths, render_tree
from aiplat_gen.reports.plan import build_plan
from aiplat_gen.reports.summary import Summary
from conftest import REPO


@pytest.fixture(scope="module")
def example() -> tuple[Tree, Summary]:
    profiles = validate_many(select([], True, Settings(REPO / "profiles")), with_parents=True)
    chosen = family(profiles)
    plans = {vp.name: build_plan(vp.profile) for vp in chosen.profiles}
    return render_tree(chosen.profiles, None), Summary(chosen, plans)


def _owner_of(rel: str, rendered: Tree) -> str | None:
    """The profile whose paths (from the model's functions) hold `rel`, or None."""
    for vp in rendered.profiles:
        root = vp.source.parent is None
        charts = rendered.renders[vp.name].helm_values
        folders = [paths.folder(vp.name, root), paths.argocd(vp.name)]
        if (any(rel.startswith(f"{f}/") for f in folders)
                or rel in {paths.helm_values(c, vp.name, root) for c in charts}
                or (root and rel == paths.README)):
            return vp.name
    return None


def test_every_path_comes_from_the_model(example: tuple[Tree, Summary]) -> None:
    rendered, summary = example
    laid_out = lay_out(rendered, (*DEFAULT_TARGETS, summary))
    assert laid_out.files
    for rel in laid_out.files:
        assert _owner_of(rel, rendered) == laid_out.owners[rel], rel


def test_the_model_lays_out_the_committed_tree(example: tuple[Tree, Summary]) -> None:
    rendered, summary = example
    laid_out = lay_out(rendered, (*DEFAULT_TARGETS, summary))
    out = REPO / "output"
    record = json.loads((out / paths.RECORD).read_text(encoding="utf-8"))["files"]
    assert set(laid_out.files) == set(record)
    assert {rel: e["profile"] for rel, e in record.items()} == laid_out.owners
    for rel, text in laid_out.files.items():
        assert (out / rel).read_text(encoding="utf-8") == text, rel


class _Chart:
    """A fake extra target: one file per profile in a folder of its own."""

    def files(self, unit: Unit) -> dict[str, str]:
        return {f"charts/{unit.name}/Chart.yaml": f"name: {unit.name}\n"}


def test_a_new_target_joins_without_touching_the_others(example: tuple[Tree, Summary]) -> None:
    rendered, _ = example
    before = lay_out(rendered)
    after = lay_out(rendered, (*DEFAULT_TARGETS, _Chart()))
    extra = {rel: text for rel, text in after.files.items() if rel not in before.files}
    assert extra == {f"charts/{vp.name}/Chart.yaml": f"name: {vp.name}\n"
                     for vp in rendered.profiles}
    assert {rel: after.files[rel] for rel in before.files} == before.files
    assert all(after.owners[f"charts/{vp.name}/Chart.yaml"] == vp.name
               for vp in rendered.profiles)


def test_relative_paths_between_folders() -> None:
    assert paths.parent_folder("dev", "base", parent_is_root=True) == "../../base"
    assert paths.parent_folder("prod", "staging", parent_is_root=False) == "../staging"
    assert paths.object_sources(["base", "staging", "prod"]) == [
        "overlays/prod/resources", "overlays/staging/resources", "base"]
    assert paths.chain_folder(["base"]) == "base"
    assert paths.chain_folder(["base", "dev"]) == "overlays/dev"


def test_check_asks_the_writer(example: tuple[Tree, Summary], tmp_path: Path) -> None:
    rendered, summary = example
    laid_out = tree.lay_out(rendered, (*DEFAULT_TARGETS, summary))
    from aiplat_gen.output import writer

    scope = {vp.name for vp in rendered.profiles}
    out = tmp_path / "out"
    assert paths.RECORD in writer.drift(out, laid_out.files, laid_out.owners, scope)
    writer.apply(out, laid_out.files, laid_out.owners, scope)
    assert writer.drift(out, laid_out.files, laid_out.owners, scope) == []
    assert writer.diff(out, laid_out.files, laid_out.owners, scope) == ""
