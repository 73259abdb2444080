"""`aiplat-gen init --ci github`, `aiplat-gen images` and the pre-commit hooks: the workflow is
valid YAML with pinned tools, never overwrites a file, and every aiplat-gen command it (or a hook)
runs works on the example repository."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import Result

from aiplat_gen.verify.check.images import images_in
from aiplat_gen.verify.kube.kubeconform import find_tool
from conftest import REPO

WORKFLOW = Path(".github/workflows/aiplat-gen.yml")
REPO_URL = "https://github.com/acme/aiplat-gen"
SHA = "0123456789abcdef0123456789abcdef01234567"
SOURCE = f"{REPO_URL}@{SHA}"


def _workflow(cli: Callable[..., Result]) -> dict[Any, Any]:
    result = cli("init", "--ci", "github", "--ci-source", SOURCE)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote {Path.cwd() / WORKFLOW}\n"
    data = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(data, dict)
    return data


def _steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return [s for job in workflow["jobs"].values() for s in job["steps"]]


def test_workflow_installs_pinned_tools_and_runs_the_checks(workspace: Path,
                                                            cli: Callable[..., Result]) -> None:
    workflow = _workflow(cli)
    assert workflow["permissions"] == {"contents": "read"}
    env = workflow["env"]
    assert env["KUBECONFORM_VERSION"] == "v0.7.0"
    assert env["KUSTOMIZE_VERSION"] == "v5.8.1"
    # Not on PyPI: installed from the repository and commit the user gave (pip's VCS form).
    assert env["AIPLAT_GEN_REPO"] == REPO_URL
    assert env["AIPLAT_GEN_REF"] == SHA
    assert "AIPLAT_GEN_VERSION" not in env
    runs = "\n".join(s.get("run", "") for s in _steps(workflow))
    for command in ("aiplat-gen render --all --check", "aiplat-gen check --all",
                    "kubeconform@${KUBECONFORM_VERSION}", "kustomize/v5@${KUSTOMIZE_VERSION}",
                    'pip install "aiplat-gen @ git+${AIPLAT_GEN_REPO}@${AIPLAT_GEN_REF}"'):
        assert command in runs, command
    assert "aiplat-gen==" not in WORKFLOW.read_text()
    scan = workflow["jobs"]["scan"]
    assert scan["needs"] == "verify"
    assert scan["strategy"]["matrix"]["image"] == "${{ fromJSON(needs.verify.outputs.images) }}"
    (trivy,) = scan["steps"]
    assert re.fullmatch(r"aquasecurity/trivy-action@[0-9a-f]{40}", trivy["uses"])
    assert trivy["with"]["image-ref"] == "${{ matrix.image }}"
    assert trivy["with"]["version"] == "v0.69.3"
    assert trivy["with"]["exit-code"] == "1"
    uses = [s["uses"] for s in _steps(workflow) if "uses" in s]
    assert len(uses) == 4
    for action in uses:  # every action pinned by commit, never by a tag that can move
        assert re.fullmatch(r"[a-z-]+/[a-z-]+@[0-9a-f]{40}", action), action
    text = WORKFLOW.read_text()
    for pinned in ("actions/checkout@d23441a48e516b6c34aea4fa41551a30e30af803  # v6.1.0",
                   "actions/setup-python@ece7cb06caefa5fff74198d8649806c4678c61a1  # v6.3.0",
                   "actions/setup-go@924ae3a1cded613372ab5595356fb5720e22ba16  # v6.5.0"):
        assert f"uses: {pinned}\n" in text, pinned


@pytest.mark.parametrize("repository", ["example", "scaffold"])
def test_actionlint_accepts_the_workflow(repository: str, workspace: Path,
                                         cli: Callable[..., Result]) -> None:
    """The real workflow linter (installed by scripts/install-tools.sh: missing is a failure)
    finds nothing in the workflow, written next to the example profiles or to a scaffold."""
    if repository == "scaffold":
        shutil.rmtree(workspace / "profiles")
        assert cli("init", "--example", "full").exit_code == 0
    _workflow(cli)
    actionlint = find_tool("actionlint")
    result = subprocess.run([str(actionlint), "-no-color", str(WORKFLOW)], capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("source", "problem"), [
    (None, "--ci github needs --ci-source URL@REF"),
    (REPO_URL, "as URL@REF"),
    (f"{REPO_URL}@main", "ref 'main' is neither a full (40 hex digits) commit sha"),
    (f"{REPO_URL}@0123456", "ref '0123456' is neither"),
    (f"http://github.com/acme/aiplat-gen@{SHA}", "is not an https:// or ssh:// git URL"),
    (f"https://github.com/acme/$(id)@{SHA}", "is not an https:// or ssh:// git URL"),
    (f"https://github.com/acme/x y@{SHA}", "is not an https:// or ssh:// git URL"),
    ("ssh://git@github.com/acme/aiplat-gen", "as URL@REF"),
])
def test_ci_source_is_required_and_pinned(source: str | None, problem: str, workspace: Path,
                                          cli: Callable[..., Result]) -> None:
    args = ["init", "--ci", "github", *(["--ci-source", source] if source else [])]
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert problem in result.stderr
    assert not Path(".github").exists()


@pytest.mark.parametrize("source", [
    f"git+{REPO_URL}@v0.1.0", f"ssh://git@github.com/acme/aiplat-gen.git@{SHA}"])
def test_ci_source_takes_a_tag_and_ssh(source: str, workspace: Path,
                                       cli: Callable[..., Result]) -> None:
    result = cli("init", "--ci", "github", "--ci-source", source)
    assert result.exit_code == 0, result.output
    env = yaml.safe_load(WORKFLOW.read_text())["env"]
    assert f"{env['AIPLAT_GEN_REPO']}@{env['AIPLAT_GEN_REF']}" == source.removeprefix("git+")


def test_ci_source_without_ci_is_a_usage_error(workspace: Path,
                                               cli: Callable[..., Result]) -> None:
    result = cli("init", "--example", "full", "--ci-source", SOURCE)
    assert result.exit_code == 2 and "--ci-source goes with --ci github" in result.stderr


def test_init_never_overwrites(workspace: Path, cli: Callable[..., Result]) -> None:
    WORKFLOW.parent.mkdir(parents=True)
    WORKFLOW.write_text("mine\n")
    result = cli("init", "--ci", "github", "--ci-source", SOURCE)
    assert result.exit_code == 1
    assert "refusing to overwrite" in result.stderr
    assert WORKFLOW.read_text() == "mine\n"


def test_init_usage_errors(workspace: Path, cli: Callable[..., Result]) -> None:
    result = cli("init", "--ci", "gitlab")
    assert result.exit_code == 2 and "--ci must be one of: github" in result.stderr
    assert not Path(".github").exists()


def _aiplat_commands(workflow: dict[Any, Any]) -> list[list[str]]:
    commands = []
    for step in _steps(workflow):
        # A command, not the package in `pip install "aiplat-gen @ git+..."`.
        for match in re.finditer(r"aiplat-gen ([a-z][^\n)]*)", step.get("run", "")):
            words = shlex.split(match.group(1))
            if words[0] != "init":
                commands.append(words)
    return commands


def test_every_workflow_command_works_on_the_example_repository(
        workspace: Path, cli: Callable[..., Result],
        monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    monkeypatch.setenv("AIPLAT_GEN_CACHE", str(tmp_path_factory.getbasetemp() / "ci-cache"))
    commands = _aiplat_commands(_workflow(cli))
    assert [c[0] for c in commands] == ["validate", "render", "check", "images"]
    assert ["check", "--all"] in commands  # the shipped CRD schemas: no network, no option
    assert cli("render", "--all").exit_code == 0  # the user commits output/ beforehand
    for words in commands:
        result = cli(*words)
        assert result.exit_code == 0, (words, result.output)
    images = json.loads(cli("images", "--all", "--format", "json").stdout)
    assert images == sorted(set(images))


def test_images_are_the_container_images_of_the_rendered_objects(
        workspace: Path, cli: Callable[..., Result]) -> None:
    assert cli("render", "--all").exit_code == 0
    listed = cli("images", "--all").stdout.splitlines()
    built = ""
    for folder in ["base", *(f"overlays/{p.name}" for p in (workspace / "output/overlays")
                             .iterdir())]:
        built += subprocess.run([str(find_tool("kustomize")), "build", f"output/{folder}"],
                                capture_output=True, text=True, check=True).stdout
    in_output = set(re.findall(r"^\s*(?:- )?(?:image|imageName): (\S+)$", built, re.MULTILINE))
    assert set(listed) == {i.strip('"') for i in in_output}


def test_images_in_finds_every_container_list() -> None:
    cronjob = {"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {
        "initContainers": [{"name": "a", "image": "busybox:1.37"}],
        "containers": [{"name": "b", "image": "python:3.12"}],
        "ephemeralContainers": [{"name": "c", "image": "debug:1"}]}}}}}}
    runtime = {"kind": "ServingRuntime", "spec": {"containers": [{"image": "vllm/vllm-openai:v0"}],
                                                  "image": "not-a-container"}}
    assert images_in(cronjob) == {"busybox:1.37", "python:3.12", "debug:1"}
    assert images_in(runtime) == {"vllm/vllm-openai:v0"}
    assert images_in({"spec": {"image": "x:1"}}) == set()


def test_pre_commit_hooks(workspace: Path, cli: Callable[..., Result]) -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert sorted(hooks) == ["aiplat-gen-render-check", "aiplat-gen-validate"]
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["pass_filenames"] is False
        assert hook["files"] == "^profiles/"
        assert hook["entry"].startswith("aiplat-gen ")
    validate = shlex.split(hooks["aiplat-gen-validate"]["entry"])[1:]
    render_check = shlex.split(hooks["aiplat-gen-render-check"]["entry"])[1:]
    assert cli(*validate).exit_code == 0
    assert cli(*render_check).exit_code == 3  # nothing rendered yet: stale
    assert cli("render", "--all").exit_code == 0
    assert cli(*render_check).exit_code == 0
    prod = workspace / "profiles" / "prod.yaml"
    prod.write_text(prod.read_text().replace("memory: 6Ti", "memory: 7Ti"))
    assert cli(*render_check).exit_code == 3
    prod.write_text(prod.read_text().replace("memory: 7Ti", "memory: lots"))
    assert cli(*validate).exit_code == 1
