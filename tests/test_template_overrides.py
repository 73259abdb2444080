"""Templates of --templates-dir are the user's (issue 16, item 12): rendered in Jinja's sandbox,
and every broken override is exit 1 naming the template file and line, nothing written; a
--templates-dir that is not a folder is a usage error. A copy of every built-in template as
overrides renders the same bytes as the built-in ones."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from aiplat_gen.core.package import templates_dir as builtin_templates_dir
from conftest import tree_bytes

SERVICE = "serving/service.yaml.j2"


def _override(workspace: Path, text: str, name: str = SERVICE) -> Path:
    folder = workspace / "my-templates"
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder


def _builtin(name: str = SERVICE) -> str:
    return (builtin_templates_dir() / name).read_text()


_ESCAPE = "{{ cycler.__init__.__globals__.os.popen('touch PWNED').read() }}\n"
AFTER_BUILTIN = -1
"""The line just after the built-in template's last one (where an appended line lands, and
where Jinja reports a block left open)."""
_CASES: dict[str, tuple[Callable[[], str], str, int]] = {
    # case: (override text, expected message, line)
    "sandbox-escape": (lambda: _builtin() + "# " + _ESCAPE, "refused by the sandbox",
                       AFTER_BUILTIN),
    "sandbox-mutation": (lambda: "{% set l = [] %}{{ l.append(1) }}\n" + _builtin(),
                         "refused by the sandbox", 1),
    "undefined-name": (lambda: "apiVersion: v1\nkind: Service\nmetadata: {{ nosuch }}\n",
                       "undefined name", 3),
    "syntax-error": (lambda: "apiVersion: v1\n{% if %}\n", "template syntax error", 2),
    "unclosed-block": (lambda: "{% for x in ports %}\n" + _builtin(), "template syntax error",
                       AFTER_BUILTIN),
    "division-by-zero": (lambda: "apiVersion: v1\nx: {{ 1/0 }}\n", "ZeroDivisionError", 2),
    "invalid-yaml": (lambda: "apiVersion: v1\nkind: [\n", "not valid YAML", 1),
    "a-list": (lambda: "- apiVersion: v1\n- kind: Service\n", "not a mapping", 1),
    "a-scalar": (lambda: "just text\n", "not a mapping", 1),
    "duplicate-object": (lambda: _builtin() + "\n---\n" + _builtin(), "each object once", 1),
    "empty": (lambda: "", "renders no document", 1),
    "only-comments": (lambda: "# nothing here\n", "renders no document", 1),
}


@pytest.mark.parametrize("case", sorted(_CASES))
def test_broken_override_is_located_exit_1(case: str, workspace: Path,
                                           cli: Callable[..., Result]) -> None:
    text, message, line = _CASES[case]
    if line == AFTER_BUILTIN:
        line = len(_builtin().splitlines()) + 1
    folder = _override(workspace, text())
    start = time.monotonic()
    result = cli("render", "--all", "--templates-dir", str(folder))
    assert time.monotonic() - start < 60
    assert result.exit_code == 1, (case, result.output)
    assert message in result.stderr, result.stderr
    assert f"{folder / SERVICE}:{line}:" in result.stderr, result.stderr
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert not (workspace / "output").exists()
    assert not (workspace / "PWNED").exists()


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_templates_dir_not_a_folder_is_usage_error(kind: str, workspace: Path,
                                                   cli: Callable[..., Result]) -> None:
    path = workspace / "my-templates"
    if kind == "file":
        path.write_text("x\n")
    result = cli("render", "--all", "--templates-dir", str(path))
    assert result.exit_code == 2, result.output
    assert f"--templates-dir {path}" in result.stderr
    assert not (workspace / "output").exists()


def test_builtin_templates_as_overrides_render_the_same_bytes(
        workspace: Path, cli: Callable[..., Result]) -> None:
    """Every built-in template renders in the sandbox, byte for byte as outside it."""
    assert cli("render", "--all").exit_code == 0
    plain = tree_bytes(workspace / "output")
    folder = workspace / "my-templates"
    shutil.copytree(builtin_templates_dir(), folder)
    result = cli("render", "--all", "--templates-dir", str(folder), "--out", "sandboxed")
    assert result.exit_code == 0, result.output
    assert tree_bytes(workspace / "sandboxed") == plain
