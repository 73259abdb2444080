"""`aiplat-gen schema --out` follows the writer's rules (issue 16, item 11): it replaces only a
profile schema it wrote, never writes through a symlink, writes atomically, and every refusal or
failure is exit 1 with a message, nothing changed."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from aiplat_gen.profile.jsonschema import schema_text


def test_writes_a_new_file_and_replaces_its_own(tmp_path: Path,
                                                cli: Callable[..., Result]) -> None:
    out = tmp_path / "profile.schema.json"
    first = cli("schema", "--out", str(out))
    assert first.exit_code == 0, first.output
    assert out.read_text() == schema_text()
    out.write_text(out.read_text().replace('"description"', '"description"', 1) + "\n")
    older = out.read_text().replace("v1alpha1", "v1alpha0")  # an older version's schema
    out.write_text(older)
    again = cli("schema", "--out", str(out))
    assert again.exit_code == 0, again.output
    assert out.read_text() == schema_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["profile.schema.json"]


def _foreign(tmp_path: Path) -> tuple[Path, str]:
    out = tmp_path / "notes.json"
    out.write_text('{"mine": true}\n')
    return out, "is not a profile schema aiplat-gen wrote"


def _other_id(tmp_path: Path) -> tuple[Path, str]:
    out = tmp_path / "other.json"
    out.write_text('{"$id": "https://example.com/x.json", "title": "aiplat-gen platform '
                   'profile"}\n')
    return out, "is not a profile schema aiplat-gen wrote"


def _not_json(tmp_path: Path) -> tuple[Path, str]:
    out = tmp_path / "README.md"
    out.write_text("# my readme\n")
    return out, "is not a profile schema aiplat-gen wrote"


def _symlink(tmp_path: Path) -> tuple[Path, str]:
    target = tmp_path / "elsewhere.json"
    target.write_text(schema_text())
    out = tmp_path / "link.json"
    out.symlink_to(target)
    return out, "is a symlink"


def _dangling(tmp_path: Path) -> tuple[Path, str]:
    out = tmp_path / "dangling.json"
    out.symlink_to(tmp_path / "missing.json")
    return out, "is a symlink"


def _folder(tmp_path: Path) -> tuple[Path, str]:
    out = tmp_path / "schemas"
    out.mkdir()
    return out, "is a folder"


def _missing_parent(tmp_path: Path) -> tuple[Path, str]:
    return tmp_path / "no" / "such" / "schema.json", "does not exist"


def _fifo(tmp_path: Path) -> tuple[Path, str]:
    out = tmp_path / "pipe.json"
    os.mkfifo(out)
    return out, "not a regular file"


@pytest.mark.parametrize("arrange", [_foreign, _other_id, _not_json, _symlink, _dangling,
                                     _folder, _missing_parent, _fifo],
                         ids=lambda f: f.__name__.strip("_"))
def test_refusals(arrange: Callable[[Path], tuple[Path, str]], tmp_path: Path,
                  cli: Callable[..., Result]) -> None:
    out, message = arrange(tmp_path)
    before = {p.name: (p.read_bytes() if p.is_file() and not p.is_symlink() else None)
              for p in tmp_path.rglob("*")}
    result = cli("schema", "--out", str(out))
    assert result.exit_code == 1, result.output
    assert message in result.stderr and str(out) in result.stderr
    assert "Traceback" not in result.output
    after = {p.name: (p.read_bytes() if p.is_file() and not p.is_symlink() else None)
             for p in tmp_path.rglob("*")}
    assert after == before


def test_full_device_leaves_the_previous_file(tmp_path: Path, cli: Callable[..., Result],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "profile.schema.json"
    previous = schema_text().replace("v1alpha1", "v1alpha0")
    out.write_text(previous)
    real_fsync = os.fsync

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    result = cli("schema", "--out", str(out))
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert result.exit_code == 1, result.output
    assert "no space left on device" in result.stderr
    assert out.read_text() == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == ["profile.schema.json"]
