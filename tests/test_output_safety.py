"""Output safety: a render that is interrupted, killed, pointed at symlinks, denied writing, or
run twice at once never leaves a mixed or corrupted output folder and never writes outside it.

Scenario: the example profiles are rendered (state A); then three profiles change (state B:
prod's GPU quota, staging's H100 pool size, which removes a patch, and a new namespace in dev,
which adds files in new folders), and B is rendered over A.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from aiplat_gen import writer
from aiplat_gen.cli import app
from aiplat_gen.errors import OutputError
from conftest import REPO, tree_bytes

AIPLAT_GEN = Path(sys.executable).parent / "aiplat-gen"
EDITS_B = {
    "prod": [("gpus: 40", "gpus: 32")],
    "staging": [("      nodes: 1\n", "      nodes: 2\n")],
    "dev": [("  namespaces:\n", "  namespaces:\n    - name: batch-jobs\n      purpose: batch\n")],
}


def _profiles(folder: Path, edits: dict[str, list[tuple[str, str]]]) -> Path:
    shutil.copytree(REPO / "profiles", folder)
    for name, changes in edits.items():
        path = folder / f"{name}.yaml"
        text = path.read_text(encoding="utf-8")
        for old, new in changes:
            assert text.count(old) == 1, (name, old)
            text = text.replace(old, new)
        path.write_text(text, encoding="utf-8")
    return folder


def _render(profiles: Path, out: Path, *extra: str) -> Result:
    return CliRunner().invoke(app, ["render", "--all", "--profiles-dir", str(profiles),
                                    "--out", str(out), *extra])


def snapshot(root: Path) -> tuple[dict[str, bytes], list[str]]:
    """Every file's bytes and every folder (so that empty leftovers count too)."""
    folders = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_dir())
    return tree_bytes(root), folders


def _record_matches_files(out: Path) -> None:
    record = json.loads((out / writer.RECORD).read_text(encoding="utf-8"))["files"]
    on_disk = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()} - {writer.RECORD}
    assert set(record) == on_disk
    for rel, entry in record.items():
        assert writer._sha((out / rel).read_bytes()) == entry["sha256"], rel


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Profiles A and B, the tree of A (pristine), and what `writer.apply` receives for B."""
    root = tmp_path_factory.mktemp("states")
    a, b = _profiles(root / "A", {}), _profiles(root / "B", EDITS_B)
    pristine = root / "pristine"
    assert _render(a, pristine).exit_code == 0
    captured: dict[str, Any] = {}
    real_apply = writer.apply

    def capture(out: Path, files: dict[str, str], owners: dict[str, str],
                scope: set[str]) -> writer.Outcome:
        captured.update(files=files, owners=owners, scope=scope)
        return real_apply(out, files, owners, scope)

    scratch = root / "scratch"
    shutil.copytree(pristine, scratch)
    writer.apply = capture
    try:
        result = _render(b, scratch)
    finally:
        writer.apply = real_apply
    assert result.exit_code == 0, result.output
    assert "1 removed" in result.stdout
    return {"A": a, "B": b, "pristine": pristine, "apply_b": captured,
            "tree_b": snapshot(scratch)}


@pytest.fixture
def fail_move(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[int, BaseException], None]]:
    """`arm(k, exc)`: the k-th `Path.replace` (a file move of the writer) raises exc instead."""
    real = Path.replace
    state = {"n": 0, "fail_at": 0}
    failure: list[BaseException] = []

    def replace(self: Path, target: Any) -> Path:
        state["n"] += 1
        if state["n"] == state["fail_at"]:
            raise failure[0]
        return real(self, target)

    def arm(k: int, exc: BaseException) -> None:
        state.update(n=0, fail_at=k)
        failure[:] = [exc]

    monkeypatch.setattr(Path, "replace", replace)
    yield arm
    monkeypatch.setattr(Path, "replace", real)


def _moves_of_b(states: dict[str, Any], tmp_path: Path) -> int:
    """How many file moves (`Path.replace` calls) rendering B over A takes."""
    out = tmp_path / "count"
    shutil.copytree(states["pristine"], out)
    calls = {"n": 0}
    real = Path.replace

    def counting(self: Path, target: Any) -> Path:
        calls["n"] += 1
        return real(self, target)

    Path.replace = counting  # type: ignore[method-assign,assignment]
    try:
        writer.apply(out, **states["apply_b"])
    finally:
        Path.replace = real  # type: ignore[method-assign]
    assert snapshot(out) == states["tree_b"]
    return calls["n"]


@pytest.mark.parametrize("failure", [KeyboardInterrupt(), OSError(errno.ENOSPC, "No space left")],
                         ids=["ctrl-c", "disk-full"])
def test_interrupted_at_every_move_leaves_previous_output(
        failure: BaseException, states: dict[str, Any], tmp_path: Path,
        fail_move: Callable[[int, BaseException], None]) -> None:
    moves = _moves_of_b(states, tmp_path)
    assert moves >= 15, moves  # writes with backups, a removal, the record, the journal
    before = snapshot(states["pristine"])
    out = tmp_path / "out"
    shutil.copytree(states["pristine"], out)
    for k in range(1, moves + 1):  # each round starts from the tree the previous one restored
        fail_move(k, failure)
        with pytest.raises((KeyboardInterrupt, OutputError)):
            writer.apply(out, **states["apply_b"])
        assert snapshot(out) == before, f"move {k} of {moves}: the previous output changed"


def test_a_second_signal_during_the_rollback_waits(states: dict[str, Any], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C pressed again while files are being put back does not cut the rollback short."""
    out = tmp_path / "out"
    shutil.copytree(states["pristine"], out)
    real = Path.replace
    calls = {"n": 0}

    def replace(self: Path, target: Any) -> Path:
        calls["n"] += 1
        if calls["n"] == 8:
            raise KeyboardInterrupt
        if calls["n"] == 10:  # the rollback is under way: a real SIGINT arrives
            os.kill(os.getpid(), signal.SIGINT)
        return real(self, target)

    monkeypatch.setattr(Path, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        writer.apply(out, **states["apply_b"])
    monkeypatch.setattr(Path, "replace", real)
    assert calls["n"] > 10
    assert snapshot(out) == snapshot(states["pristine"])


_KILLER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    real, calls = Path.replace, [0]
    def replace(self, target):
        calls[0] += 1
        if calls[0] == {at}:
            os.kill(os.getpid(), signal.{sig})
        return real(self, target)
    Path.replace = replace
    from aiplat_gen.cli import main
    sys.argv = ["aiplat-gen", "render", "--all", "--profiles-dir", {profiles!r}, "--out", {out!r}]
    main()
""")


def _render_with_signal(profiles: Path, out: Path, at: int,
                        sig: str) -> subprocess.CompletedProcess[str]:
    script = _KILLER.format(at=at, sig=sig, profiles=str(profiles), out=str(out))
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=False)


@pytest.mark.parametrize("at", [1, 10])
def test_killed_render_is_undone_by_the_next(at: int, states: dict[str, Any],
                                             tmp_path: Path) -> None:
    """SIGKILL at the k-th move: nothing can run in the dying process, so the next render finds
    the journal in the staging folder and puts the previous files back before it starts."""
    out = tmp_path / "out"
    shutil.copytree(states["pristine"], out)
    killed = _render_with_signal(states["B"], out, at, "SIGKILL")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert list(out.glob(f"{writer.STAGING_PREFIX}*")), "the killed render left its staging"
    if at > 1:
        assert snapshot(out) != snapshot(states["pristine"]), "killed midway: the tree is mixed"
    # The next render (of the previous profiles) first undoes the killed one: byte for byte A,
    # without leftovers such as new files of B that A's record does not list.
    again = _render(states["A"], out)
    assert again.exit_code == 0, again.output
    assert "0 written" in again.stdout
    assert snapshot(out) == snapshot(states["pristine"])
    _record_matches_files(out)


@pytest.mark.parametrize("sig", ["SIGTERM"])
def test_terminated_render_rolls_back(sig: str, states: dict[str, Any], tmp_path: Path) -> None:
    """A CI job cancelled (SIGTERM) or a closed terminal (SIGHUP) midway: exit 130, A intact."""
    out = tmp_path / "out"
    shutil.copytree(states["pristine"], out)
    done = _render_with_signal(states["B"], out, 9, sig)
    assert done.returncode == 130, done.stderr
    assert "interrupted" in done.stderr and "Traceback" not in done.stderr
    assert snapshot(out) == snapshot(states["pristine"])


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
    entry = {"profile": "staging", "sha256": writer._sha(victim.read_bytes())}
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
    result = _render(states["B"], out)
    assert result.exit_code == 1, result.output
    assert message in result.stderr and "Traceback" not in result.output
    with pytest.raises(OutputError, match=message):  # what `render --check` and `--diff` call
        writer.plan(out, **states["apply_b"])
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
        result = _render(states["B"], link, *extra)
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
    result = _render(states["B"], out)
    monkeypatch.undo()
    assert result.exit_code == 1, result.output
    expected = "read-only file system" if code == errno.EROFS else "permission denied"
    assert f"cannot write to {out}" in result.stderr or f"cannot write to {out}/" in result.stderr
    assert expected in result.stderr and "Traceback" not in result.output
    assert snapshot(out) == before


_SLOW_MOVES = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    real = Path.replace
    def replace(self, target):
        with open({log!r}, "a") as log:
            log.write(f"{{os.getpid()}} {{time.monotonic()}}\\n")
        time.sleep(0.004)  # widen the window in which two unlocked writers would interleave
        return real(self, target)
    Path.replace = replace
    from aiplat_gen.cli import main
    sys.argv = ["aiplat-gen", "render", "--all", "--profiles-dir", {profiles!r}, "--out", {out!r}]
    main()
""")


def test_two_renders_at_once_do_not_corrupt_the_tree(states: dict[str, Any],
                                                     tmp_path: Path) -> None:
    """Two processes started together render different profile edits (A and B) into one
    folder, each over the other's files: the lock serialises their moves, the result is exactly
    one of the two renders, and the record matches the files."""
    for round_ in range(1):
        out = tmp_path / f"output-{round_}"
        log = tmp_path / f"moves-{round_}.log"
        first, second = ("A", "B") if round_ == 0 else ("B", "A")
        shutil.copytree(states["pristine"], out)
        # Start from a third state, so that both renders change files whichever goes first.
        third = _profiles(tmp_path / f"C-{round_}", {"staging": [("nodes: 1\n", "nodes: 3\n")]})
        assert _render(third, out).exit_code == 0
        procs = {name: subprocess.Popen(
            [sys.executable, "-c", _SLOW_MOVES.format(log=str(log), profiles=str(states[name]),
                                                      out=str(out))],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for name in (first, second)}
        for name, proc in procs.items():
            stdout, stderr = proc.communicate(timeout=120)
            assert proc.returncode == 0, f"{name}: {stderr}"
        intervals: dict[str, list[float]] = {}
        for line in log.read_text().splitlines():
            pid, stamp = line.split()
            intervals.setdefault(pid, []).append(float(stamp))
        assert len(intervals) == 2, "both renders moved files"
        (a_start, a_end), (b_start, b_end) = sorted((min(v), max(v)) for v in intervals.values())
        assert a_end < b_start, "the two renders' file moves interleaved"
        checks = {name: _render(states[name], out, "--check").exit_code for name in ("A", "B")}
        assert sorted(checks.values()) == [0, 3], checks
        _record_matches_files(out)
        assert not list(out.glob(f"{writer.STAGING_PREFIX}*"))
