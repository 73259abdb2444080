"""`aiplat-gen schema --out FILE`: write the profile's JSON Schema with the writer's rules.

It only replaces a file it wrote before: one that parses as a JSON object whose `$id` is an
aiplat-gen profile schema's (`https://aiplat.dev/schemas/platform-profile-...`) and whose title
is the one it gives. The content identifies a schema of this tool whatever version wrote it, and
the schema is one file that users commit or hand to their editor, so there is no record beside
it. It refuses symlinks and anything that is not a regular file, and writes atomically (a
temporary file in the same folder, then a rename), so a failure leaves the previous file whole.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import tempfile
from pathlib import Path

from aiplat_gen.core.errors import OutputError
from aiplat_gen.profile.jsonschema import SCHEMA_ID, SCHEMA_TITLE, schema_text

_ID_PREFIX = SCHEMA_ID.rsplit("-", 1)[0] + "-"  # any version of the profile schema
_MAX_BYTES = 16 * 1024 * 1024  # far above the schema (~0.3 MB); a bigger file is not ours


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on device"
    if exc.errno == errno.EROFS:
        return "read-only file system"
    return "permission denied" if isinstance(exc, PermissionError) else (
        exc.strerror or str(exc)).lower()


def _ours(out: Path) -> bool:
    """Whether `out` (a regular file) holds an aiplat-gen profile schema."""
    with out.open("rb") as handle:
        data = handle.read(_MAX_BYTES + 1)
    if len(data) > _MAX_BYTES:
        return False
    try:
        schema = json.loads(data.decode("utf-8"))
    except ValueError:
        return False
    return (isinstance(schema, dict) and isinstance(schema.get("$id"), str)
            and schema["$id"].startswith(_ID_PREFIX) and schema.get("title") == SCHEMA_TITLE)


def _check_target(out: Path) -> None:
    try:
        mode = out.lstat().st_mode
    except FileNotFoundError:
        if not out.parent.is_dir():
            raise OutputError(f"cannot write {out}: folder {out.parent} does not exist") from None
        return
    if stat.S_ISLNK(mode):
        raise OutputError(f"{out} is a symlink; aiplat-gen does not write through links")
    if stat.S_ISDIR(mode):
        raise OutputError(f"{out} is a folder; give the path of a file, e.g. "
                          f"{out / 'profile.schema.json'}")
    if not stat.S_ISREG(mode):
        raise OutputError(f"{out} is not a regular file; refusing to write it")
    if not _ours(out):
        raise OutputError(f"refusing to overwrite {out}: it is not a profile schema aiplat-gen "
                          "wrote (move it away, or write to another path)")


def write_schema(out: Path) -> None:
    """Write the schema to `out` (a new file, or one holding a previous aiplat-gen schema)."""
    try:
        _check_target(out)
        fd, temp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    except OSError as exc:
        raise OutputError(f"cannot write {out}: {_reason(exc)}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(schema_text().encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        Path(temp).chmod(0o644)
        Path(temp).replace(out)
    except OSError as exc:
        with contextlib.suppress(OSError):
            Path(temp).unlink()
        raise OutputError(f"cannot write {out}: {_reason(exc)}") from None
