"""The `extends` merge rule and the positions values keep through it."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiplat_gen.core.errors import ProfileError
from aiplat_gen.profile.loader import to_plain
from aiplat_gen.profile.merge import load_profile


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return path


def test_merge_rule_and_origins(tmp_path: Path) -> None:
    _write(tmp_path, "root", """\
a:
  keep: 1
  drop: 2
  list: [1, 2, 3]
pools:
  - name: x
    size: 1
    tags: [a]
  - name: y
    size: 2
""")
    child = _write(tmp_path, "child", """\
extends: root
a:
  drop: null
  list: [9]
  new: true
pools:
  - name: y
    size: 5
  - name: z
    size: 7
    gone: null
""")
    source = load_profile(child)
    plain, positions = to_plain(source.tree)
    assert plain == {
        "a": {"keep": 1, "list": [9], "new": True},
        "pools": [{"name": "x", "size": 1, "tags": ["a"]}, {"name": "y", "size": 5},
                  {"name": "z", "size": 7}],
    }
    assert source.chain == ("root", "child")
    assert positions[("a", "keep")].file.endswith("root.yaml")
    assert positions[("a", "list")].file.endswith("child.yaml")
    assert positions[("pools", 0, "size")].file.endswith("root.yaml")
    assert positions[("pools", 1, "size")].file.endswith("child.yaml")
    assert (positions[("pools", 1, "size")].line, positions[("pools", 1, "size")].column) == (8, 5)


def test_two_profile_cycle_is_located(tmp_path: Path) -> None:
    _write(tmp_path, "a", "extends: b\n")
    path = _write(tmp_path, "b", "extends: a\n")
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    diag = caught.value.diagnostics[0]
    assert "extends cycle: b -> a -> b" in diag.message
    assert diag.position is not None and diag.position.file.endswith("a.yaml")


def test_parent_symlink_leaving_folder_is_refused(tmp_path: Path) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    elsewhere = _write(tmp_path, "secret", "spec: {}\n")
    (profiles / "root.yaml").symlink_to(elsewhere)
    child = _write(profiles, "child", "extends: root\n")
    with pytest.raises(ProfileError) as caught:
        load_profile(child)
    assert "outside the profiles folder" in caught.value.diagnostics[0].message
