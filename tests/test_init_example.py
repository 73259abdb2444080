"""`aiplat-gen init --example minimal|full`: the scaffold renders and checks cleanly as it is, its
profiles satisfy the JSON Schema they point at, and init never overwrites anything."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator
from typer.testing import Result

from aiplat_gen.profile.jsonschema import schema_text
from aiplat_gen.render.scaffold import EXAMPLES, example_files
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
    # The only warnings: the placeholder sha256 of each model (64 zeros), to be replaced,
    # (where the scaffold deploys with ArgoCD) the argocd-cm health check to declare, and the
    # scaffolds' per-replica volumes, which no weights Job can fill: they keep the download,
    # and internet egress, in the server pods.
    warnings = rendered.stderr.splitlines()
    expected = ("sha256 is the placeholder", "spec.gitops.applicationHealthCheck: ",
                "storage.perReplica: per-replica volumes are filled by the server pods")
    assert warnings and all(any(e in w for e in expected) for w in warnings), warnings
    assert (empty / "output" / "overlays" / "prod" / "kustomization.yaml").is_file()
    checked = cli("check", "--all", "--schema-location", str(CRD_SCHEMAS))
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.rstrip().endswith(": ok"), checked.stdout
    policy = cli("check", "--all", "--policy", "--schema-location", str(CRD_SCHEMAS))
    # `check --policy` refuses the placeholders, and nothing else, until they are replaced.
    assert policy.exit_code == 1, policy.output
    findings = policy.stdout.splitlines()[:-1]
    assert findings and all("policy weights-checksum:" in f for f in findings), findings
    for name in PROFILES:
        planned = cli("plan", name)
        assert planned.exit_code == 0, planned.output
        assert [w for w in planned.stderr.splitlines()
                if not any(e in w for e in expected)] == []


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
    result = cli("init", "--example", "minimal", "--ci", "github", "--ci-source",
                 "https://github.com/acme/aiplat-gen@v0.1.0")
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
    result = cli("init", "--example", "full", "--ci", "github", "--ci-source",
                 "https://github.com/acme/aiplat-gen@v0.1.0")
    assert result.exit_code == 0, result.output
    assert (empty / ".github" / "workflows" / "aiplat-gen.yml").is_file()
    assert (empty / "profiles" / "prod.yaml").is_file()


def test_init_usage(empty: Path, cli: Callable[..., Result]) -> None:
    result = cli("init", "--example", "huge")
    assert result.exit_code == 2
    assert "--example must be one of: minimal, full" in result.stderr
    assert list(empty.iterdir()) == []


def test_bare_init_scaffolds_the_minimal_example(empty: Path, cli: Callable[..., Result]) -> None:
    """`init [--example minimal|full]`: the documented form works without the option."""
    result = cli("init")
    assert result.exit_code == 0, result.output
    assert tree_bytes(empty) == {rel: text.encode("utf-8") for rel, text
                                 in example_files("minimal").items()}
    assert not (empty / ".github").exists()


def test_every_hint_to_render_is_a_command_that_works(empty: Path,
                                                     cli: Callable[..., Result]) -> None:
    """The header of every rendered file and the --check message say how to re-render; the
    command they quote runs (a bare `aiplat-gen render` exits 2)."""
    assert cli("init").exit_code == 0
    assert cli("render", "--all").exit_code == 0
    # Drift the quoted command repairs: an owned file gone (an edited one needs `--force`).
    (empty / "output" / "base" / "kustomization.yaml").unlink()
    stale = cli("render", "--all", "--check")
    assert stale.exit_code == 3
    hinted = re.findall(r"run `aiplat-gen ([^`]+)`", stale.stderr)
    headers = {line for path in (empty / "output").rglob("*.yaml")
               for line in path.read_text().splitlines()[:1]}
    hinted += [h for line in headers for h in re.findall(r"run `aiplat-gen ([^`]+)`", line)]
    assert hinted and set(hinted) == {"render --all"}, hinted
    for command in set(hinted):
        assert cli(*command.split()).exit_code == 0, command
    assert cli("render", "--all", "--check").exit_code == 0
