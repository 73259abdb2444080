"""Helpers of the fuzz campaign (`test_fuzz_*.py`); no tests here.

`run` invokes the CLI in-process under a deadline (SIGALRM): an input that makes the tool hang
fails the example instead of the whole test run. `assert_clean` is the campaign's oracle: exit 0,
1 or 2; never a traceback or an internal error; every diagnostic located at `file:line:col` of a
real file and a line that exists; and a failed render leaves no output folder.
"""

from __future__ import annotations

import contextlib
import re
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from typer.testing import CliRunner, Result

from aiplat_gen.cli import app
from conftest import REPO

PROFILE_TEXTS = {p.stem: p.read_text(encoding="utf-8") for p in sorted(
    (REPO / "profiles").glob("*.yaml"))}
LOCATED = re.compile(r"^(?P<file>[^\n]+?\.ya?ml):(?P<line>[0-9]+):(?P<column>[0-9]+): ")
_BREAKS = re.compile(r"\r\n|\r|\n")


class Hang(BaseException):
    """The tool did not answer within the deadline (a BaseException: nothing in the tool may
    catch it)."""


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise Hang in the main thread when `seconds` have passed."""

    def fire(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run(*args: str, seconds: float = 5.0) -> Result:
    """`aiplat-gen ARGS` in-process, failing with Hang after `seconds`."""
    try:
        with deadline(seconds):
            return CliRunner().invoke(app, list(args), catch_exceptions=True)
    except Hang:
        # A fresh exception: the one from the signal handler may sit thousands of frames deep
        # (a recursive parser), which pytest cannot always print.
        raise Hang(f"aiplat-gen {' '.join(args)[:300]}: no answer within {seconds} s") from None


def _lines_of(path: Path) -> int:
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return 0
    return max(len(_BREAKS.split(text)), len(text.splitlines())) + 1


EXCERPT = re.compile(r"^ +[0-9]* \| ")
"""A quoted source line under a syntax error (`  8 |   image: a: b`) or its caret line."""


def assert_clean(result: Result, cwd: Path, out: Path | None = None) -> None:
    """The oracle: a clean success or a clean, located failure; nothing written on failure."""
    shown = f"exit {result.exit_code}\n{result.output}"
    if isinstance(result.exception, Hang):
        raise result.exception
    assert result.exit_code in (0, 1, 2), shown
    assert "Traceback" not in result.output and "internal error" not in result.output, shown
    diagnostics = [line for line in result.stderr.splitlines()
                   if not line.startswith("aiplat-gen:") and not EXCERPT.match(line)]
    if result.exit_code == 1:
        assert diagnostics, f"exit 1 without a located diagnostic\n{shown}"
    for line in diagnostics:
        match = LOCATED.match(line)
        assert match, f"diagnostic without file:line:col: {line!r}\n{shown}"
        path = cwd / match["file"]
        assert path.is_file(), f"diagnostic names a missing file: {line!r}"
        assert 1 <= int(match["line"]) <= _lines_of(path), f"line out of the file: {line!r}"
        assert int(match["column"]) >= 1, line
    if out is not None and result.exit_code != 0:
        assert not out.exists(), f"a failed render left {out}\n{shown}"


def value_paths(node: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """The path of every value below a plain tree (mapping keys and list indexes), depth first."""
    found: list[tuple[str | int, ...]] = []
    if isinstance(node, dict):
        items: Any = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return found
    for key, value in items:
        found.append((*prefix, key))
        found += value_paths(value, (*prefix, key))
    return found


def write_profile(folder: Path, name: str, data: str | bytes) -> Path:
    """The example profiles in `folder/profiles`, with `name` replaced by `data`."""
    profiles = folder / "profiles"
    profiles.mkdir(parents=True, exist_ok=True)
    for stem, text in PROFILE_TEXTS.items():
        (profiles / f"{stem}.yaml").write_text(text, encoding="utf-8")
    path = profiles / f"{name}.yaml"
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8", newline="")
    return path


def python() -> str:
    """The interpreter running the tests (its `aiplat-gen` is the one under test)."""
    return sys.executable
