"""The output tree: committed and fresh, deterministic, and safe for files the tool does not own."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from conftest import REPO, tree_bytes


def test_committed_output_is_fresh(cli: Callable[..., Result],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    result = cli("render", "--all", "--check")
    assert result.exit_code == 0, result.output
    assert "up to date" in result.stdout


def test_render_is_deterministic(workspace: Path, cli: Callable[..., Result]) -> None:
    first = cli("render", "--all", "--out", "one")
    second = cli("render", "--all", "--out", "two")
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert tree_bytes(workspace / "one") == tree_bytes(workspace / "two")
    again = cli("render", "--all", "--out", "one")
    assert again.exit_code == 0
    assert "0 written" in again.stdout
    assert tree_bytes(workspace / "one") == tree_bytes(workspace / "two")


def test_render_prod_writes_base_overlay_and_values(workspace: Path,
                                                    cli: Callable[..., Result]) -> None:
    result = cli("render", "prod")
    assert result.exit_code == 0, result.output
    out = workspace / "output"
    assert (out / "base" / "kustomization.yaml").is_file()
    assert (out / "overlays" / "prod" / "kustomization.yaml").is_file()
    assert (out / "helm" / "gpu-operator" / "values.yaml").is_file()
    assert (out / "helm" / "gpu-operator" / "values-prod.yaml").is_file()
    assert not (out / "overlays" / "dev").exists()


def test_foreign_file_survives_render(workspace: Path, cli: Callable[..., Result]) -> None:
    notes = workspace / "output" / "NOTES.md"
    notes.parent.mkdir()
    notes.write_text("mine\n")
    (workspace / "output" / "base").mkdir()
    mine = workspace / "output" / "base" / "local-extra.yaml"
    mine.write_text("kept: true\n")
    result = cli("render", "--all")
    assert result.exit_code == 0, result.output
    assert notes.read_text() == "mine\n"
    assert mine.read_text() == "kept: true\n"
    assert cli("render", "--all", "--check").exit_code == 0


def test_foreign_file_in_the_way_is_refused(workspace: Path, cli: Callable[..., Result]) -> None:
    target = workspace / "output" / "base" / "kustomization.yaml"
    target.parent.mkdir(parents=True)
    target.write_text("# my own kustomization\n")
    result = cli("render", "--all")
    assert result.exit_code == 1
    assert "did not write" in result.stderr and "base/kustomization.yaml" in result.stderr
    assert target.read_text() == "# my own kustomization\n"
    assert sorted(p.name for p in (workspace / "output").rglob("*")) == ["base",
                                                                         "kustomization.yaml"]


def test_check_reports_stale_files_and_diff(workspace: Path, cli: Callable[..., Result]) -> None:
    assert cli("render", "--all").exit_code == 0
    profile = workspace / "profiles" / "prod.yaml"
    profile.write_text(profile.read_text().replace("gpus: 40", "gpus: 32"))
    check = cli("render", "--all", "--check")
    assert check.exit_code == 3
    assert "overlays/prod/patches/cluster-resourcequota-llm-serving-quota.yaml" in check.stderr
    diff = cli("render", "--all", "--diff")
    assert diff.exit_code == 1  # like `git diff --exit-code`: there are differences
    assert '-  value: "40"' in diff.stdout and '+  value: "32"' in diff.stdout
    # Paths as seen from where the command runs, the ownership record included (as --check).
    patch = "output/overlays/prod/patches/cluster-resourcequota-llm-serving-quota.yaml"
    assert f"--- a/{patch}\n+++ b/{patch}\n" in diff.stdout
    assert "--- a/output/.aiplat-gen.json\n+++ b/output/.aiplat-gen.json\n" in diff.stdout
    assert ".aiplat-gen.json" in check.stderr
    stale = sorted(re.findall(r"^\+\+\+ b/output/(\S+)$", diff.stdout, re.MULTILINE))
    listed = sorted(line.strip() for line in check.stderr.splitlines()[1:-1])
    assert stale == listed
    assert cli("render", "--all").exit_code == 0
    clean = cli("render", "--all", "--diff")
    assert clean.exit_code == 0 and clean.stdout == ""


def test_diff_shows_new_and_removed_files_against_dev_null(workspace: Path,
                                                           cli: Callable[..., Result]) -> None:
    fresh = cli("render", "--all", "--diff")
    assert fresh.exit_code == 1
    assert "--- /dev/null\n+++ b/output/base/kustomization.yaml\n" in fresh.stdout
    assert not (workspace / "output").exists()
    assert cli("render", "--all").exit_code == 0
    profile = workspace / "profiles" / "staging.yaml"
    profile.write_text(profile.read_text().replace("      nodes: 1\n", "      nodes: 2\n"))
    gone = "output/overlays/staging/patches/cluster-nodepool-gpu-h100.yaml"
    removed = cli("render", "--all", "--diff")
    assert removed.exit_code == 1
    assert f"--- a/{gone}\n+++ /dev/null\n" in removed.stdout


def test_stale_owned_files_are_removed_edited_ones_refused(workspace: Path,
                                                        cli: Callable[..., Result]) -> None:
    assert cli("render", "--all").exit_code == 0
    out = workspace / "output"
    staging_patch = out / "overlays" / "staging" / "patches" / "cluster-nodepool-gpu-h100.yaml"
    assert staging_patch.is_file()
    profile = workspace / "profiles" / "staging.yaml"
    profile.write_text(profile.read_text().replace("      nodes: 1\n", "      nodes: 2\n"))
    result = cli("render", "staging")
    assert result.exit_code == 0, result.output
    assert not staging_patch.exists()
    record = json.loads((out / ".aiplat-gen.json").read_text())
    assert "overlays/staging/patches/cluster-nodepool-gpu-h100.yaml" not in record["files"]
    # an owned file edited by someone is not overwritten without --force (issue 16, item 2)
    quota_patch = out / "overlays" / "staging" / "patches" / (
        "cluster-resourcequota-llm-serving-quota.yaml")
    edited = quota_patch.read_text() + "# edited\n"
    quota_patch.write_text(edited)
    profile.write_text(profile.read_text().replace("        gpus: 8\n", "        gpus: 16\n"))
    before = tree_bytes(out)
    result = cli("render", "staging")
    assert result.exit_code == 1, result.output
    assert "edited since aiplat-gen wrote them" in result.stderr and "--force" in result.stderr
    assert "cluster-resourcequota-llm-serving-quota.yaml" in result.stderr
    assert tree_bytes(out) == before
    check = cli("render", "staging", "--check")
    assert check.exit_code == 3 and "(edited since aiplat-gen wrote it)" in check.stderr
    assert cli("render", "staging", "--diff").exit_code == 1  # it shows the edit undone
    assert cli("render", "staging", "--force").exit_code == 0
    assert not quota_patch.exists()  # no longer rendered: the edited copy is discarded
    assert cli("render", "--all", "--check").exit_code == 0


def test_symlink_in_output_is_not_followed(workspace: Path, cli: Callable[..., Result],
                                           tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (workspace / "output").mkdir()
    (workspace / "output" / "base").symlink_to(outside, target_is_directory=True)
    result = cli("render", "--all")
    assert result.exit_code == 1
    assert "symlink" in result.stderr
    assert list(outside.iterdir()) == []


def test_usage_errors_exit_2(workspace: Path, cli: Callable[..., Result]) -> None:
    assert cli("render").exit_code == 2
    assert cli("render", "prod", "--all").exit_code == 2
    missing = cli("render", "prdo")
    assert missing.exit_code == 2
    assert "did you mean 'prod'" in missing.stderr
    assert cli("render", "--no-such-option").exit_code == 2
    assert not (workspace / "output").exists()


def test_validate_formats(workspace: Path, cli: Callable[..., Result]) -> None:
    profile = workspace / "profiles" / "dev.yaml"
    profile.write_text(profile.read_text().replace("replicas: 4", "replicas: 0"))
    text = cli("validate", "dev")
    assert text.exit_code == 1
    assert "profiles/dev.yaml:" in text.stderr and "replicas" in text.stderr
    as_json = cli("validate", "dev", "--format", "json")
    assert as_json.exit_code == 1
    items = json.loads(as_json.stderr.split("aiplat-gen:")[0])
    errors = [i for i in items if i["severity"] == "error"]
    assert errors[0]["path"].endswith("sharing.replicas") and errors[0]["line"] > 0
    github = cli("validate", "dev", "--format", "github")
    assert github.exit_code == 1
    # base's per-replica model warns first (its pods keep internet egress), then dev's error.
    assert "\n::error file=profiles/dev.yaml,line=" in github.stderr


def test_oversized_profile_is_refused(workspace: Path, cli: Callable[..., Result]) -> None:
    big = workspace / "profiles" / "big.yaml"
    big.write_text("apiVersion: aiplat.dev/v1alpha1\n" + "# padding\n" * 120_000)
    result = cli("validate", "big")
    assert result.exit_code == 1
    assert "profiles/big.yaml:1:1: file is" in result.stderr and "limit" in result.stderr


def test_internal_errors_exit_4_without_traceback(workspace: Path, cli: Callable[..., Result],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from aiplat_gen.output import tree

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(tree, "build_tree", boom)
    result = cli("render", "--all")
    assert result.exit_code == 4
    assert "internal error" in result.stderr and "Traceback" not in result.output


def test_interrupted_render_leaves_previous_output(workspace: Path, cli: Callable[..., Result],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli("render", "--all").exit_code == 0
    before = tree_bytes(workspace / "output")
    profile = workspace / "profiles" / "prod.yaml"
    profile.write_text(profile.read_text().replace("gpus: 40", "gpus: 32"))
    (workspace / "profiles" / "staging.yaml").write_text(
        (workspace / "profiles" / "staging.yaml").read_text().replace("nodes: 1", "nodes: 3"))
    real_replace = Path.replace
    calls = {"n": 0}

    def flaky_replace(self: Path, target: Path) -> Path:
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt  # as if Ctrl-C arrived midway through the moves
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", flaky_replace)
    result = cli("render", "--all")
    monkeypatch.setattr(Path, "replace", real_replace)
    assert result.exit_code == 130
    assert calls["n"] > 4, "the interruption must come midway, with files already moved"
    assert tree_bytes(workspace / "output") == before
    assert not list((workspace / "output").glob(".aiplat-gen-staging-*"))


def test_read_only_output_gives_a_clear_error(workspace: Path, cli: Callable[..., Result]) -> None:
    import os

    if os.geteuid() == 0:
        pytest.skip("root ignores file permissions")
    out = workspace / "output"
    out.mkdir()
    out.chmod(0o555)
    try:
        result = cli("render", "--all")
    finally:
        out.chmod(0o755)
    assert result.exit_code == 1
    assert "permission denied" in result.stderr and "Traceback" not in result.output
