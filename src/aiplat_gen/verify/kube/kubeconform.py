"""Run the real kubeconform binary offline and parse its JSON report.

Only the schema locations given are used: no `default` (remote) location is added and missing
schemas are never ignored, so a resource kubeconform cannot find a schema for is an error, not a
skip. Binaries come from `scripts/install-tools.sh` (see `find_tool`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiplat_gen.core.errors import AiplatError, ExitCode, capped

# src/aiplat_gen/verify/kube/kubeconform.py -> the checkout's root, where install-tools.sh puts
# `.tools`.
_REPO_ROOT = Path(__file__).resolve().parents[4]
_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?$")
_TIMEOUT_SECONDS = 300


class ToolError(AiplatError):
    """An external tool is missing, or ran but did not produce a report we can read (say
    `--kubeconform /bin/false`): a problem of the environment, not of the profile (exit 2)."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True, order=True)
class ResourceResult:
    """kubeconform's verdict on one resource; `status` is valid, invalid, error or skipped."""

    filename: str
    kind: str
    name: str
    version: str
    status: str
    msg: str
    # (JSON pointer into the resource, message) for each schema violation of an invalid resource.
    validation_errors: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Summary:
    """kubeconform's counts over all resources."""

    valid: int
    invalid: int
    errors: int
    skipped: int


@dataclass(frozen=True)
class KubeconformReport:
    """Parsed `kubeconform -output json -summary -verbose` output, with the command that made it."""

    resources: tuple[ResourceResult, ...]
    summary: Summary
    command: tuple[str, ...]
    returncode: int

    @property
    def ok(self) -> bool:
        """True when every resource was valid: nothing invalid, in error or skipped."""
        s = self.summary
        return self.returncode == 0 and s.invalid == 0 and s.errors == 0 and s.skipped == 0

    @property
    def problems(self) -> tuple[ResourceResult, ...]:
        """The resources that were not valid."""
        return tuple(r for r in self.resources if r.status != "valid")


def find_tool(name: str) -> Path:
    """Return the `name` binary: from `$AIPLAT_TOOLS/bin`, else `<repo>/.tools/bin`, else PATH."""
    candidates: list[Path] = []
    if tools := os.environ.get("AIPLAT_TOOLS"):
        candidates.append(Path(tools) / "bin" / name)
    candidates.append(_REPO_ROOT / ".tools" / "bin" / name)
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    on_path = shutil.which(name)
    if on_path:
        return Path(on_path)
    searched = ", ".join(str(c.parent) for c in candidates)
    raise ToolError(
        f"{name} not found in {searched} or on PATH; run scripts/install-tools.sh to install it"
    )


def kubeconform_command(
    inputs: Sequence[Path] | None,
    kubernetes_version: str,
    schema_locations: Sequence[str],
    binary: Path,
) -> list[str]:
    """Build the kubeconform argument list; `inputs=None` reads manifests from stdin."""
    if not schema_locations:
        # With no -schema-location kubeconform falls back to its remote default registry.
        raise ValueError("at least one schema location is required")
    command = [
        str(binary),
        "-strict",
        "-summary",
        "-verbose",
        "-output",
        "json",
        "-kubernetes-version",
        full_kubernetes_version(kubernetes_version),
    ]
    for location in schema_locations:
        command += ["-schema-location", location]
    command += [str(path) for path in inputs] if inputs is not None else ["-"]
    return command


def run_kubeconform(
    files_or_stdin_text: Sequence[Path] | str,
    kubernetes_version: str,
    schema_locations: Sequence[str],
    binary: Path,
) -> KubeconformReport:
    """Validate manifest files (or YAML text, sent on stdin) with kubeconform; return its report.

    The report is returned whatever the verdict; a `ToolError` means kubeconform itself failed
    (bad arguments, unreadable output).
    """
    stdin_text = files_or_stdin_text if isinstance(files_or_stdin_text, str) else None
    inputs = None if isinstance(files_or_stdin_text, str) else list(files_or_stdin_text)
    if inputs == []:
        # kubeconform would read an empty stdin and report success on nothing.
        raise ValueError("no manifest files to validate")
    command = kubeconform_command(inputs, kubernetes_version, schema_locations, binary)
    try:
        proc = subprocess.run(
            command,
            input=stdin_text if stdin_text is not None else "",
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolError(f"could not run {binary}: {exc}") from exc
    try:
        data = json.loads(proc.stdout)
        return _parse(data, tuple(command), proc.returncode)
    except (ValueError, KeyError, TypeError) as exc:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise ToolError(
            f"{binary} exited {proc.returncode} without a JSON report: "
            f"{capped(detail[-1]) if detail else exc}"
        ) from exc


def full_kubernetes_version(kubernetes_version: str) -> str:
    """Return `x.y.z` as kubeconform requires it: `1.33` -> `1.33.0`, `v1.33.2` -> `1.33.2`."""
    match = _VERSION_RE.match(kubernetes_version.strip())
    if match is None:
        raise ValueError(f"invalid Kubernetes version {kubernetes_version!r}; expected e.g. 1.33")
    major, minor, patch = match.groups()
    return f"{major}.{minor}.{patch or 0}"


def _parse(data: dict[str, Any], command: tuple[str, ...], returncode: int) -> KubeconformReport:
    # kubeconform validates on several goroutines, so its order varies from run to run.
    resources = sorted(
        ResourceResult(
            filename=item["filename"],
            kind=item["kind"],
            name=item["name"],
            version=item["version"],
            # "statusValid" -> "valid"
            status=item["status"].removeprefix("status").lower(),
            msg=item["msg"],
            validation_errors=tuple(
                (error["path"], error["msg"]) for error in item.get("validationErrors") or ()
            ),
        )
        for item in data["resources"]
    )
    counts = data["summary"]
    summary = Summary(
        valid=counts["valid"],
        invalid=counts["invalid"],
        errors=counts["errors"],
        skipped=counts["skipped"],
    )
    return KubeconformReport(tuple(resources), summary, command, returncode)
