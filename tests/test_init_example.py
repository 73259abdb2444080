"""`aiplat-gen init --example minimal|full`: the scaffold renders and checks cleanly as it is, its
profiles satisfy the JSON Schema they point at, and init never overwrites anything."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator
from typer.testing import Result

from aiplat_gen.profile.jsonschema import schema_text
from aiplat_gen.render.scaffold import EXAMPLES
from conftest import CRD_SCHEMAS, tree_bytes

PROFILES = ("base", "dev", "prod")


@pytest.fixture
def empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder, made the current folder."""
    folder = tmp_path / "repo"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


@pytest.mark.parametrize("example", EXAMPLES)
def test_scaffold_renders_and_checks_cleanly(example: str, empty: Path, shared: Path,
                                             cli: Callable[..., Result],
                                             monkeypatch: pytest.MonkeyPatch,
                                             tmp_path_factory: pytest.TempPathFactory) -> None:
    monkeypatch.setenv("AIPLAT_GEN_CACHE", str(tmp_path_factory.getbasetemp() / "init-cache"))
    result = cli("init", "--example", example)
    assert result.exit_code == 0, result.output
    written = [f"wrote {empty / 'profiles' / f'{n}.yaml'}" for n in PROFILES]
    written.append(f"wrote {empty / 'schema' / 'profile.schema.json'}")
    assert result.stdout.splitlines()[:-1] == written
    assert sorted(tree_bytes(empty)) == [*(f"profiles/{n}.yaml" for n in PROFILES),
                                         "schema/profile.schema.json"]
    rendered = cli("render", "--all")
    assert rendered.exit_code == 0, rendered.output
    # No warning either, except the documented one: the scaffolds' per-replica volumes, which
    # no weights Job can fill, keep the download, and internet egress, in the server pods.
    allowed = "storage.perReplica: per-replica volumes are filled by the server pods"
    assert all(allowed in line for line in rendered.stderr.splitlines()), rendered.stderr
    assert (empty / "output" / "overlays" / "prod" / "kustomization.yaml").is_file()
    checked = cli("check", "--all", "--schema-location", str(CRD_SCHEMAS))
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.rstrip().endswith(": ok"), checked.stdout
    policy = cli("check", "--all", "--policy", "--schema-location", str(CRD_SCHEMAS))
    assert policy.exit_code == 0, policy.output
    for name in PROFILES:
        planned = cli("plan", name)
        assert planned.exit_code == 0, planned.output
        assert all("warning" not in line or allowed in line
                   for line in planned.output.splitlines()), planned.output


@pytest.mark.parametrize("example", EXAMPLES)
def test_scaffold_profiles_follow_the_schema_they_point_at(example: str, empty: Path,
                                                           cli: Callable[..., Result]) -> None:
    assert cli("init", "--example", example).exit_code == 0
    schema_file = empty / "schema" / "profile.schema.json"
    assert schema_file.read_text("utf-8") == schema_text()
    validator = Draft202012Validator(json.loads(schema_file.read_text("utf-8")))
    for name in PROFILES:
        path = empty / "profiles" / f"{name}.yaml"
        first = path.read_text("utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schema/profile.schema.json"
        assert (path.parent / "../schema/profile.schema.json").resolve() == schema_file
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
        assert errors == [], (name, errors)


def test_init_refuses_where_profiles_exist_and_changes_nothing(
        workspace: Path, cli: Callable[..., Result]) -> None:
    (workspace / "schema").mkdir()
    before = tree_bytes(workspace)
    result = cli("init", "--example", "minimal", "--ci", "github")
    assert result.exit_code == 1
    assert "refusing to scaffold" in result.stderr and "base.yaml" in result.stderr
    assert result.stdout == ""
    assert tree_bytes(workspace) == before
    assert sorted(p.name for p in workspace.iterdir()) == ["profiles", "schema"]


def test_init_refuses_any_existing_file_and_writes_nothing(empty: Path,
                                                          cli: Callable[..., Result]) -> None:
    schema_file = empty / "schema" / "profile.schema.json"
    schema_file.parent.mkdir()
    schema_file.write_text("mine\n")
    result = cli("init", "--example", "full")
    assert result.exit_code == 1
    assert f"refusing to overwrite {schema_file}" in result.stderr
    assert schema_file.read_text() == "mine\n"
    assert not (empty / "profiles").exists()


def test_init_refuses_a_file_where_a_folder_goes(empty: Path,
                                                 cli: Callable[..., Result]) -> None:
    (empty / "profiles").write_text("not a folder\n")
    result = cli("init", "--example", "minimal")
    assert result.exit_code == 1
    assert "not a folder" in result.stderr
    assert sorted(p.name for p in empty.iterdir()) == ["profiles"]


def test_example_and_ci_together(empty: Path, cli: Callable[..., Result]) -> None:
    result = cli("init", "--example", "full", "--ci", "github")
    assert result.exit_code == 0, result.output
    assert (empty / ".github" / "workflows" / "aiplat-gen.yml").is_file()
    assert (empty / "profiles" / "prod.yaml").is_file()


def test_init_usage(empty: Path, cli: Callable[..., Result]) -> None:
    result = cli("init", "--example", "huge")
    assert result.exit_code == 2
    assert "--example must be one of: minimal, full" in result.stderr
    nothing = cli("init")
    assert nothing.exit_code == 2 and "--example" in nothing.stderr
    assert list(empty.iterdir()) == []
