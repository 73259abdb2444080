"""Output safety against the file system: symlinks inside the output folder (a file, a folder,
the record, a dangling link, the folder itself), a record listing paths outside it, a file where
a folder belongs, and a read-only output folder. Nothing is followed, written through or outside
the folder; each case is exit 1 with a clear message. Scenario and helpers:
test_output_safety_support.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aiplat_gen.core.errors import OutputError
from aiplat_gen.output import writer
from test_output_safety_support import AIPLAT_GEN, render, snapshot, states

__all__ = ["states"]  # the module-scoped fixture, shared by the tests below


def _outside(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "kustomization.yaml").write_text("mine: true\n")
    return outside


def _link_file(out: Path, outside: Path) -> str:
    target = out / "base" / "kustomization.yaml"
    target.unlink()
    target.symlink_to(outside / "kustomization.yaml")
    return "symlink"


def _link_folder(out: Path, outside: Path) -> str:
    # B removes overlays/staging/patches/cluster-nodepool-gpu-h100.yaml: through this link the
    # removal would delete a file outside the output folder.
    patches = out / "overlays" / "staging" / "patches"
    shutil.copytree(patches, outside / "patches")
    shutil.rmtree(patches)
    patches.symlink_to(outside / "patches", target_is_directory=True)
    return "symlink"


def _link_record(out: Path, outside: Path) -> str:
    shutil.copy(out / writer.RECORD, outside / "record.json")
    (out / writer.RECORD).unlink()
    (out / writer.RECORD).symlink_to(outside / "record.json")
    return "symlink"


def _dangling_link(out: Path, outside: Path) -> str:
    target = out / "overlays" / "prod" / "kustomization.yaml"
    target.unlink()
    target.symlink_to(outside / "missing.yaml")
    return "symlink"


def _record_escapes(out: Path, outside: Path) -> str:
    record = json.loads((out / writer.RECORD).read_text())
    victim = outside / "kustomization.yaml"
    entry = {"profile": "staging", "sha256": hashlib.sha256(victim.read_bytes()).hexdigest()}
    record["files"]["../outside/kustomization.yaml"] = entry
    (out / writer.RECORD).write_text(json.dumps(record))
    return "not a file inside the output folder"


def _file_for_folder(out: Path, outside: Path) -> str:
    shutil.rmtree(out / "overlays" / "dev")
    (out / "overlays" / "dev").write_text("a file\n")
    return "is a file where aiplat-gen writes a folder"


@pytest.mark.parametrize("arrange", [_link_file, _link_folder, _link_record, _dangling_link,
                                     _record_escapes, _file_for_folder],
                         ids=lambda f: f.__name__.strip("_"))
def test_links_and_escapes_are_refused(arrange: Callable[[Path, Path], str],
                                       states: dict[str, Any], tmp_path: Path) -> None:
    """Render and `--check` both refuse (exit 1, a clear message), write nothing anywhere."""
    out = tmp_path / "output"
    shutil.copytree(states["pristine"], out)
    outside = _outside(tmp_path)
    message = arrange(out, outside)
    before, outside_before = snapshot(out), snapshot(outside)
    result = render(states["B"], out)
    assert result.exit_code == 1, result.output
    assert message in result.stderr and "Traceback" not in result.output
    with pytest.raises(OutputError, match=message):  # what `render --check` and `--diff` call
        writer.changes(out, **states["apply_b"])
    assert snapshot(outside) == outside_before, "something was written outside the output"
    assert snapshot(out) == before, "a refused render changed the output folder"


def test_output_folder_itself_a_symlink_is_refused(states: dict[str, Any],
                                                   tmp_path: Path) -> None:
    real = tmp_path / "real"
    shutil.copytree(states["pristine"], real)
    link = tmp_path / "output"
    link.symlink_to(real, target_is_directory=True)
    before = snapshot(real)
    for extra in ([], ["--check"]):
        result = render(states["B"], link, *extra)
        assert result.exit_code == 1, result.output
        assert "is a symlink" in result.stderr
    assert snapshot(real) == before


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True, check=False)
    return probe.returncode == 0


@pytest.mark.skipif(not _unshare_works(), reason="no user+mount namespaces (unshare -rm) here; "
                    "test_read_only_output_simulated covers the error path")
def test_read_only_bind_mount(states: dict[str, Any], tmp_path: Path) -> None:
    """A really read-only output folder (a read-only bind mount in a private mount namespace;
    chmod would not stop root): an up-to-date render succeeds without writing, a changing one
    fails with a clear message and changes nothing."""
    out = tmp_path / "output"
    shutil.copytree(states["pristine"], out)
    before = snapshot(out)

    def render_read_only(profiles: Path) -> subprocess.CompletedProcess[str]:
        script = ('mount --bind "$1" "$1" || exit 98; mount -o remount,bind,ro "$1" || exit 98;'
                  ' if touch "$1/.probe" 2>/dev/null; then exit 99; fi; shift; exec "$@"')
        return subprocess.run(
            ["unshare", "-rm", "sh", "-c", script, "sh", str(out), str(AIPLAT_GEN), "render",
             "--all", "--profiles-dir", str(profiles), "--out", str(out)],
            capture_output=True, text=True, timeout=60, check=False)

    same = render_read_only(states["A"])
    assert same.returncode == 0, same.stderr
    assert "0 written" in same.stdout
    changed = render_read_only(states["B"])
    assert changed.returncode == 1, changed.stderr
    assert f"cannot write to {out}: read-only file system" in changed.stderr
    assert "Traceback" not in changed.stderr
    assert snapshot(out) == before


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES])
@pytest.mark.parametrize("where", ["staging", "moving"])
def test_read_only_output_simulated(code: int, where: str, states: dict[str, Any],
                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """EROFS / EACCES from the first write (creating the staging folder) or from a move midway
    (monkeypatched): exit 1 with a clear message, nothing changed."""
    out = tmp_path / "output"
    shutil.copytree(states["pristine"], out)
    before = snapshot(out)
    error = OSError(code, os.strerror(code), str(out / ".aiplat-gen-staging-x"))
    if code == errno.EACCES:
        error = PermissionError(code, os.strerror(code), str(out / "base"))
    if where == "staging":
        def refuse(*args: object, **kwargs: object) -> str:
            raise error
        monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    else:
        real, calls = Path.replace, {"n": 0}

        def replace(self: Path, target: Any) -> Path:
            calls["n"] += 1
            if calls["n"] == 6:
                raise error
            return real(self, target)
        monkeypatch.setattr(Path, "replace", replace)
    result = render(states["B"], out)
    monkeypatch.undo()
    assert result.exit_code == 1, result.output
    expected = "read-only file system" if code == errno.EROFS else "permission denied"
    assert f"cannot write to {out}" in result.stderr or f"cannot write to {out}/" in result.stderr
    assert expected in result.stderr and "Traceback" not in result.output
    assert snapshot(out) == before


