"""Output safety against interruption and concurrency: a render that fails, is interrupted
(Ctrl-C, SIGTERM) or killed (SIGKILL) at any file move, or runs at the same time as another,
never leaves a mixed or corrupted output folder. Scenario and helpers: test_output_safety_support.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiplat_gen.core.errors import OutputError
from aiplat_gen.output import writer
from test_output_safety_support import (
    profiles_with,
    record_matches_files,
    render,
    snapshot,
    states,
)

__all__ = ["states"]  # the module-scoped fixture, shared by the tests below


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
    again = render(states["A"], out)
    assert again.exit_code == 0, again.output
    assert "0 written" in again.stdout
    assert snapshot(out) == snapshot(states["pristine"])
    record_matches_files(out)


@pytest.mark.parametrize("sig", ["SIGTERM"])
def test_terminated_render_rolls_back(sig: str, states: dict[str, Any], tmp_path: Path) -> None:
    """A CI job cancelled (SIGTERM) or a closed terminal (SIGHUP) midway: exit 130, A intact."""
    out = tmp_path / "out"
    shutil.copytree(states["pristine"], out)
    done = _render_with_signal(states["B"], out, 9, sig)
    assert done.returncode == 130, done.stderr
    assert "interrupted" in done.stderr and "Traceback" not in done.stderr
    assert snapshot(out) == snapshot(states["pristine"])


def test_a_failed_first_render_leaves_no_output_folder(states: dict[str, Any], tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "output"
    real, calls = Path.replace, {"n": 0}

    def replace(self: Path, target: Any) -> Path:
        calls["n"] += 1
        if calls["n"] == 40:
            raise OSError(errno.EIO, "Input/output error")
        return real(self, target)

    monkeypatch.setattr(Path, "replace", replace)
    result = render(states["A"], out)
    monkeypatch.undo()
    assert result.exit_code == 1 and "input/output error" in result.stderr, result.output
    assert calls["n"] == 40
    assert not out.exists()


_SLOW_MOVES = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    real = Path.replace
    def replace(self, target):
        if str(target).startswith({out!r}):  # the output folder's moves (not the user cache's)
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
        third = profiles_with(tmp_path / f"C-{round_}", {"staging": [("nodes: 1\n", "nodes: 3\n")]})
        assert render(third, out).exit_code == 0
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
        checks = {name: render(states[name], out, "--check").exit_code for name in ("A", "B")}
        assert sorted(checks.values()) == [0, 3], checks
        record_matches_files(out)
        assert not list(out.glob(f"{writer.STAGING_PREFIX}*"))


def _valid_rel_reference(rel: str) -> bool:
    """The PurePosixPath reading of a path the tool may own (what `valid_rel` must agree with)."""
    from pathlib import PurePosixPath

    parts = PurePosixPath(rel).parts
    if not (parts and not rel.startswith("/") and "\\" not in rel and "\x00" not in rel
            and ".." not in parts and str(PurePosixPath(*parts)) == rel):
        return False
    if rel == "README.md":
        return True
    return (len(parts) >= 2 and parts[0] in ("base", "overlays", "helm", "argocd")
            and rel.endswith(".yaml"))


_SEGMENTS = ["base", "overlays", "helm", "argocd", "README.md", "a.yaml", ".", "..", "", "x",
             "b\\c.yaml", "n\x00.yaml", ".yaml", "dev"]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_SEGMENTS), min_size=0, max_size=5), st.booleans())
def test_valid_rel_agrees_with_the_path_reading(segments: list[str], leading: bool) -> None:
    from aiplat_gen.output.record import valid_rel

    rel = ("/" if leading else "") + "/".join(segments)
    assert valid_rel(rel) == _valid_rel_reference(rel), rel
