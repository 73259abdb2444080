"""Read a file the tool was pointed at without trusting what it is: only a regular file, and
never more than a bound. Profiles and schema files both come through here.

The file is opened non-blocking (so a FIFO with no writer does not hang the open), then
`fstat` on the open descriptor says what it is: checking the path first and opening after would
let it change in between. A FIFO, a device (`/dev/zero`, `/dev/urandom`, also behind a symlink), a
socket or a folder is refused; a regular file larger than the bound is refused from its size,
before any byte is read, and the read itself stops at the bound plus one byte, in case the file
grew after the `fstat`.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


class UnreadableFileError(Exception):
    """A file that is not a regular file, or is over the size bound; `reason` says which, in
    words fit for a message (`file is a FIFO (named pipe), not a regular file`)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FileTooLargeError(UnreadableFileError):
    """A regular file over the size bound."""


def kind_of(mode: int) -> str:
    """What a file of this `st_mode` is, in words (`a FIFO (named pipe)`)."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def read_bounded(path: Path, limit: int) -> bytes:
    """The bytes of the regular file at `path` (symlinks followed), at most `limit` of them.

    Raises `UnreadableFileError` for anything but a regular file and for a file over `limit`
    bytes; `OSError` (`FileNotFoundError`, `PermissionError`, ...) as `open` does."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        mode, size = (info := os.fstat(fd)).st_mode, info.st_size
        if not stat.S_ISREG(mode):
            raise UnreadableFileError(f"file is {kind_of(mode)}, not a regular file")
        if size > limit:
            raise FileTooLargeError(f"file is {size} bytes, over the {limit} byte limit")
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0 and (chunk := os.read(fd, min(left, 1 << 20))):
            chunks.append(chunk)
            left -= len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:  # it grew after the fstat
        raise FileTooLargeError(f"file is over the {limit} byte limit")
    return data
