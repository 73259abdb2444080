"""Build a kustomization with the real kustomize: the `kustomize` binary (from `$AIPLAT_TOOLS/bin`,
the checkout's `.tools/bin` or PATH), else kubectl's built-in `kubectl kustomize`.

Every `# Warning:` line kustomize prints (deprecated fields, for instance) is returned as a
problem: the rendered tree must build without one.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from aiplat_gen.core.errors import ExitCode, capped
from aiplat_gen.verify.kube.kubeconform import ToolError, find_tool

_TIMEOUT_SECONDS = 300
_MAX_WARNINGS = 20


class MissingToolError(ToolError):
    """A tool the command needs is not installed: a problem of the environment, not of the
    profile (exit 2, like a usage error)."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class Build:
    """What `kustomize build` printed: the YAML stream, and warnings or the failure."""

    text: str
    problems: tuple[str, ...]
    ok: bool
    returncode: int = 0
    """kustomize's exit status (0: it built, perhaps with warnings)."""


def kustomize_command() -> list[str]:
    """The command that runs `kustomize build`: the kustomize binary, else `kubectl kustomize`."""
    try:
        return [str(find_tool("kustomize")), "build"]
    except ToolError:
        kubectl = shutil.which("kubectl")
        if kubectl:
            return [kubectl, "kustomize"]
    raise MissingToolError("neither kustomize nor kubectl found (looked in $AIPLAT_TOOLS/bin, "
                           ".tools/bin and PATH); install kustomize v5 "
                           "(scripts/install-tools.sh does)")


def build(folder: Path, command: list[str]) -> Build:
    """Build one kustomization folder; a failed build or a warning is a problem."""
    try:
        proc = subprocess.run([*command, str(folder)], capture_output=True, text=True,
                              timeout=_TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolError(f"could not run {command[0]}: {exc}") from exc
    # Warnings go to stderr; stdout is YAML, where a `# Warning` line could be data.
    lines = [ln.strip() for ln in proc.stderr.splitlines()]
    problems = [capped(ln.lstrip("# ").strip()) for ln in lines if ln.startswith("# Warning")]
    if len(problems) > _MAX_WARNINGS:  # a flood of warnings is reported, not echoed whole
        problems[_MAX_WARNINGS:] = [f"... and {len(problems) - _MAX_WARNINGS} more warnings"]
    if proc.returncode != 0:
        detail = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        problems.append(f"kustomize build failed (exit {proc.returncode}): "
                        + (capped(detail[-1]) if detail else "no output"))
    return Build(proc.stdout if proc.returncode == 0 else "", tuple(problems),
                 proc.returncode == 0 and not problems, proc.returncode)
