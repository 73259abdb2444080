"""Hostile files, hangs and memory (issue 16, items 4, 5 and 7): a profile that is a FIFO, a
device or a huge file, and long `extends` chains.

Every case ends in a located error (`file:1:1` or the `extends` line) with exit 1, within a
deadline (`run` fails with Hang instead of hanging the suite), and a render writes nothing.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from aiplat_gen.core.files import FileTooLargeError, UnreadableFileError, read_bounded
from aiplat_gen.profile.merge import MAX_CHAIN
from test_fuzz_support import run

VERBS = [("render", "--all"), ("validate", "--all"), ("images", "--all"), ("render", "dev"),
         ("validate", "dev"), ("plan", "dev")]


def _fifo(path: Path) -> str:
    path.unlink()
    os.mkfifo(path)
    return "file is a FIFO (named pipe), not a regular file"


def _urandom(path: Path) -> str:
    path.unlink()
    path.symlink_to("/dev/urandom")
    return "file is a character device, not a regular file"


def _zero(path: Path) -> str:
    path.unlink()
    path.symlink_to("/dev/zero")
    return "file is a character device, not a regular file"


def _sparse(path: Path) -> str:
    os.truncate(path, 4 * 1024**3)  # 4 GiB of holes: no disk used
    return f"file is {4 * 1024**3} bytes, over the 1048576 byte limit"


def _folder(path: Path) -> str:
    path.unlink()
    path.mkdir()
    return "file is a folder, not a regular file"


@pytest.mark.parametrize("make", [_fifo, _urandom, _zero, _sparse, _folder])
@pytest.mark.parametrize("verb", VERBS, ids=" ".join)
def test_a_profile_that_is_not_a_small_regular_file_is_refused_at_its_path(
        make: object, verb: tuple[str, str], workspace: Path) -> None:
    assert callable(make)
    message = make(workspace / "profiles" / "dev.yaml")
    started = time.monotonic()
    result = run(*verb, "--out", "out") if verb[0] == "render" else run(*verb)
    elapsed = time.monotonic() - started
    assert result.exit_code == 1, result.output
    assert f"profiles/dev.yaml:1:1: {message}" in result.stderr
    assert "Traceback" not in result.output
    assert not (workspace / "out").exists()
    assert elapsed < 5, f"{elapsed:.1f} s"  # the first run pays for the imports


def test_a_parent_that_is_a_fifo_is_refused_at_its_path(workspace: Path) -> None:
    _fifo(workspace / "profiles" / "base.yaml")
    result = run("validate", "prod")
    assert result.exit_code == 1, result.output
    assert "profiles/base.yaml:1:1: file is a FIFO (named pipe), not a regular file" in (
        result.stderr)


def test_the_reader_reads_no_more_than_the_bound(tmp_path: Path) -> None:
    small = tmp_path / "small"
    small.write_bytes(b"x" * 10)
    assert read_bounded(small, 10) == b"x" * 10
    with pytest.raises(FileTooLargeError, match="11 bytes, over the 10 byte limit"):
        small.write_bytes(b"x" * 11)
        read_bounded(small, 10)
    with pytest.raises(UnreadableFileError, match="FIFO"):
        os.mkfifo(tmp_path / "fifo")
        read_bounded(tmp_path / "fifo", 10)
    with pytest.raises(FileNotFoundError):
        read_bounded(tmp_path / "absent", 10)


def _chain(folder: Path, length: int) -> None:
    """`base` (the example root) and `length - 1` profiles, each extending the one before."""
    previous = "base"
    for index in range(length - 1):
        name = f"p{index:03d}"
        (folder / f"{name}.yaml").write_text(
            f"apiVersion: aiplat.dev/v1alpha1\nkind: PlatformProfile\nmetadata:\n  name: {name}\n"
            f"extends: {previous}\n", encoding="utf-8")
        previous = name


def test_a_chain_of_the_longest_length_validates(workspace: Path) -> None:
    for name in ("dev", "prod", "staging"):
        (workspace / "profiles" / f"{name}.yaml").unlink()
    _chain(workspace / "profiles", MAX_CHAIN)
    started = time.monotonic()
    result = run("validate", "--all")
    assert result.exit_code == 0, result.output
    assert f"{MAX_CHAIN} profile(s) valid" in result.stdout
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("length", [MAX_CHAIN + 1, 500])
def test_a_longer_chain_is_one_located_error_quickly(length: int, workspace: Path) -> None:
    """Linear in the chain: 500 profiles used to take 33 s (each loaded its whole chain)."""
    for name in ("dev", "prod", "staging"):
        (workspace / "profiles" / f"{name}.yaml").unlink()
    _chain(workspace / "profiles", length)
    started = time.monotonic()
    result = run("validate", "--all", seconds=30)
    elapsed = time.monotonic() - started
    assert result.exit_code == 1, result.output
    first = f"p{MAX_CHAIN - 1:03d}"  # the 33rd profile: base, p000 .. p030 are 32
    # The line ends with the profiles it affects (` [profile ...]` / ` [profiles ...]`).
    assert result.stderr.splitlines()[0].startswith(
        f"profiles/{first}.yaml:5:1: extends: extends chain longer than {MAX_CHAIN} profiles "
        "(a chain is a root and a few layers (base -> environment -> region); flatten the "
        "middle of the chain) [profile")
    assert "1 error(s)" in result.stderr
    assert elapsed < 2 if length < 100 else elapsed < 6, f"{elapsed:.1f} s"
