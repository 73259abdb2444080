"""A render whose inputs and output folder are unchanged is reused (output/reuse.py); any change
of an input, of the tool or of the folder means a full render, and the outcome is always the
one a full render gives."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import Result

from aiplat_gen.commands import render as render_command
from aiplat_gen.core.package import templates_dir
from aiplat_gen.output import reuse
from aiplat_gen.output.record import RECORD
from aiplat_gen.render import templating
from conftest import tree_bytes

Run = Callable[..., Result]


@pytest.fixture
def full_renders(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[str]]:
    """Counts the full renders (validation and rendering) of the `render` verb; the cache is
    this test's own."""
    monkeypatch.setenv("AIPLAT_GEN_CACHE", str(tmp_path / "cache"))
    calls: list[str] = []
    full = render_command._render

    def counted(request: render_command.RenderRequest, step: object) -> object:
        calls.append(",".join(request.refs) or "--all")
        return full(request, step)  # type: ignore[arg-type]

    monkeypatch.setattr(render_command, "_render", counted)
    yield calls


def _stderr(result: Result) -> str:
    return result.stderr if result.stderr_bytes is not None else ""


def test_unchanged_render_is_reused_with_its_warnings(workspace: Path, cli: Run,
                                                      full_renders: list[str]) -> None:
    first = cli("render", "prod")
    assert first.exit_code == 0, first.output
    written = tree_bytes(workspace / "output")
    second = cli("render", "prod")
    assert second.exit_code == 0, second.output
    assert full_renders == ["prod"]
    assert "(0 written, " in second.stdout and " 0 removed)" in second.stdout
    assert second.stdout.split(":")[0] == first.stdout.split(":")[0]
    assert _stderr(second) == _stderr(first)  # the warnings, replayed
    assert "warning:" in _stderr(second)
    assert tree_bytes(workspace / "output") == written
    check = cli("render", "prod", "--check")  # the CI gate trusts no cache: a full render
    assert check.exit_code == 0, check.output
    assert "up to date" in check.stdout and full_renders == ["prod", "prod"]


def _edit_profile(ws: Path) -> None:
    with (ws / "profiles" / "prod.yaml").open("a") as handle:
        handle.write("# a comment changes the input, not the output\n")


def _add_sibling(ws: Path) -> None:
    shutil.copy(ws / "profiles" / "dev.yaml", ws / "profiles" / "dev2.yaml")


def _delete_output_file(ws: Path) -> None:
    next((ws / "output" / "base").rglob("*.yaml")).unlink()


def _staging_leftover(ws: Path) -> None:
    (ws / "output" / ".aiplat-gen-staging-x").mkdir()


@pytest.mark.parametrize("change", [_edit_profile, _add_sibling, _delete_output_file,
                                    _staging_leftover])
def test_a_changed_input_or_folder_renders_in_full(workspace: Path, cli: Run,
                                                   full_renders: list[str],
                                                   change: Callable[[Path], None]) -> None:
    assert cli("render", "prod").exit_code == 0
    change(workspace)
    again = cli("render", "prod")
    assert full_renders == ["prod", "prod"]
    if change is _staging_leftover:
        return  # the full render deals with it (recovery), whatever it decides
    assert again.exit_code == 0, again.output
    assert cli("render", "prod").exit_code == 0
    assert full_renders == ["prod", "prod"]  # and the new state is reused in turn


def test_an_edited_output_file_is_refused_as_without_reuse(workspace: Path, cli: Run,
                                                           full_renders: list[str]) -> None:
    assert cli("render", "prod").exit_code == 0
    edited = next((workspace / "output" / "base").rglob("*.yaml"))
    edited.write_text(edited.read_text() + "# edited\n")
    check = cli("render", "prod", "--check")
    assert check.exit_code == 3, check.output
    refused = cli("render", "prod")
    assert refused.exit_code == 1, refused.output
    assert full_renders == ["prod", "prod", "prod"]


def test_a_symlinked_folder_is_not_read_through(workspace: Path, cli: Run,
                                                full_renders: list[str]) -> None:
    assert cli("render", "prod").exit_code == 0
    out = workspace / "output"
    shutil.move(out / "base", workspace / "elsewhere")
    (out / "base").symlink_to(workspace / "elsewhere")
    refused = cli("render", "prod")
    assert refused.exit_code != 0
    assert "symlink" in refused.output
    assert full_renders == ["prod", "prod"]


def test_a_template_override_change_renders_in_full(workspace: Path, cli: Run,
                                                    full_renders: list[str]) -> None:
    overrides = workspace / "overrides"
    overrides.mkdir()
    assert cli("render", "prod", "--templates-dir", str(overrides)).exit_code == 0
    assert cli("render", "prod", "--templates-dir", str(overrides)).exit_code == 0
    assert full_renders == ["prod"]
    name = "cluster/namespace.yaml.j2"
    assert (templates_dir() / name).is_file()
    text = (templates_dir() / name).read_text()
    (overrides / "cluster").mkdir()
    (overrides / name).write_text(text.replace("metadata:", "metadata:\n  annotations:\n"
                                               "    example.com/x: \"1\"", 1))
    templating.environment.cache_clear()  # a new process would read the folder afresh
    templating._template.cache_clear()
    changed = cli("render", "prod", "--templates-dir", str(overrides))
    assert changed.exit_code == 0, changed.output
    assert full_renders == ["prod", "prod"]
    assert "(0 written," not in changed.stdout


def test_another_tool_renders_in_full(workspace: Path, cli: Run, full_renders: list[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli("render", "prod").exit_code == 0
    monkeypatch.setattr(reuse, "fingerprint", lambda: "another version of aiplat-gen")
    assert cli("render", "prod").exit_code == 0
    assert full_renders == ["prod", "prod"]


def test_a_damaged_cache_entry_renders_in_full(workspace: Path, cli: Run,
                                               full_renders: list[str], tmp_path: Path) -> None:
    assert cli("render", "prod").exit_code == 0
    entries = list((tmp_path / "cache" / "renders").glob("*.json"))
    assert len(entries) == 1
    for text in ("{", '{"format": 1}', '{"format": 1, "files": [], "owners": 1}', "[]"):
        entries[0].write_text(text)
        again = cli("render", "prod")
        assert again.exit_code == 0, again.output
    assert len(full_renders) == 5


def test_an_unusable_cache_never_fails_a_render(workspace: Path, cli: Run,
                                                full_renders: list[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = workspace / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("AIPLAT_GEN_CACHE", str(blocker))
    assert cli("render", "prod").exit_code == 0
    assert cli("render", "prod").exit_code == 0
    assert full_renders == ["prod", "prod"]


def test_check_diff_and_force_always_render_in_full(workspace: Path, cli: Run,
                                                    full_renders: list[str]) -> None:
    assert cli("render", "prod").exit_code == 0
    assert cli("render", "prod", "--check").exit_code == 0
    assert cli("render", "prod", "--diff").exit_code == 0
    assert cli("render", "prod", "--force").exit_code == 0
    assert full_renders == ["prod"] * 4
    assert cli("render", "prod").exit_code == 0
    assert full_renders == ["prod"] * 4  # the state they found is reused


def test_all_profiles_reused_and_a_removed_profile_noticed(workspace: Path, cli: Run,
                                                          full_renders: list[str]) -> None:
    assert cli("render", "--all").exit_code == 0
    assert cli("render", "--all").exit_code == 0
    assert full_renders == ["--all"]
    (workspace / "profiles" / "staging.yaml").unlink()
    gone = cli("render", "--all")
    assert gone.exit_code == 0, gone.output
    assert full_renders == ["--all", "--all"]
    assert not (workspace / "output" / "overlays" / "staging").exists()
    assert (workspace / "output" / RECORD).is_file()


def test_an_input_edited_during_a_render_is_not_kept(workspace: Path, cli: Run,
                                                     full_renders: list[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The key is read before the render, the profiles during it: a profile saved in between
    would file that render under inputs it did not read."""
    counted = render_command._render
    prod = workspace / "profiles" / "prod.yaml"
    original = prod.read_text()

    def edited_meanwhile(request: render_command.RenderRequest, step: object) -> object:
        if not full_renders:
            _edit_profile(workspace)  # saved after the key was read, before the profiles are
        return counted(request, step)  # type: ignore[arg-type]

    monkeypatch.setattr(render_command, "_render", edited_meanwhile)
    assert cli("render", "prod").exit_code == 0
    prod.write_text(original)  # back to the inputs the key was read from
    assert cli("render", "prod").exit_code == 0
    assert full_renders == ["prod", "prod"]  # not answered from the first render
