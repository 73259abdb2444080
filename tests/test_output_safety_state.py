"""Output safety against stale and crafted state (issue 16, items 1, 2, 3, 10): a deleted
profile's files, owned files edited by hand, a hand-made record or staging journal, and output
folders that would mix the tree with what it is rendered from. Each hostile case ends in a clear
error with the right exit code (or, for stale files, in their removal), nothing lost. Scenario
and helpers: test_output_safety_support.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from aiplat_gen.cli import app
from aiplat_gen.output import writer
from test_output_safety_support import record_matches_files, render, snapshot, states

__all__ = ["states"]  # the module-scoped fixture, shared by the tests below


@pytest.fixture
def out(states: dict[str, Any], tmp_path: Path) -> Path:
    """A copy of the rendered example profiles (state A)."""
    folder = tmp_path / "output"
    shutil.copytree(states["pristine"], folder)
    return folder


def _cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def _timed(run: Callable[[], Result]) -> Result:
    start = time.monotonic()
    result = run()
    assert time.monotonic() - start < 30, "a hostile case took too long"
    assert "Traceback" not in result.output
    return result


# -- item 1: a deleted profile's output is removed by a render of --all -----------------------

def test_deleted_profile_is_removed_by_render_all(states: dict[str, Any], out: Path,
                                                  tmp_path: Path) -> None:
    profiles = tmp_path / "profiles"
    shutil.copytree(states["A"], profiles)
    (profiles / "dev.yaml").unlink()
    dev_files = [rel for rel, entry in writer.read_record(out).items()
                 if entry["profile"] == "dev"]
    assert any(rel.startswith("argocd/dev/") for rel in dev_files)
    # a render of named profiles leaves the other (even deleted) profiles' files alone
    named = _timed(lambda: _cli("render", "prod", "--profiles-dir", str(profiles),
                                "--out", str(out)))
    assert named.exit_code == 0, named.output
    assert all((out / rel).is_file() for rel in dev_files)
    check = _timed(lambda: render(profiles, out, "--check"))
    assert check.exit_code == 3, check.output
    assert "overlays/dev/kustomization.yaml" in check.stderr
    assert "argocd/dev/application-acme-ai-dev.yaml" in check.stderr
    done = _timed(lambda: render(profiles, out))
    assert done.exit_code == 0, done.output
    assert f"{len(dev_files)} removed" in done.stdout
    assert not (out / "overlays" / "dev").exists() and not (out / "argocd" / "dev").exists()
    assert not list(out.glob("helm/*/values-dev.yaml"))
    assert all(entry["profile"] != "dev" for entry in writer.read_record(out).values())
    record_matches_files(out)
    assert render(profiles, out, "--check").exit_code == 0


# -- item 2: edited owned files are refused unless --force ------------------------------------

_EDITED = "overlays/prod/patches/cluster-resourcequota-llm-serving-quota.yaml"  # B rewrites it


def test_edited_owned_file_is_refused_then_forced(states: dict[str, Any], out: Path) -> None:
    target = out / _EDITED
    target.write_text(target.read_text() + "# my tweak\n")
    before = snapshot(out)
    refused = _timed(lambda: render(states["B"], out))
    assert refused.exit_code == 1, refused.output
    assert _EDITED in refused.stderr and "--force" in refused.stderr
    assert "move the files out of the output folder" in refused.stderr
    assert snapshot(out) == before, "a refused render changed the output"
    check = _timed(lambda: render(states["B"], out, "--check"))
    assert check.exit_code == 3 and f"{_EDITED} (edited since aiplat-gen wrote it)" in check.stderr
    diff = _timed(lambda: render(states["B"], out, "--diff"))
    assert diff.exit_code == 1 and "-# my tweak" in diff.stdout  # 1: there are differences
    forced = _timed(lambda: render(states["B"], out, "--force"))
    assert forced.exit_code == 0, forced.output
    assert snapshot(out) == states["tree_b"]


def test_edited_file_that_the_render_removes_is_refused(states: dict[str, Any],
                                                        out: Path) -> None:
    target = out / "overlays/staging/patches/cluster-nodepool-gpu-h100.yaml"  # B removes it
    target.write_text(target.read_text() + "# keep me\n")
    before = snapshot(out)
    refused = _timed(lambda: render(states["B"], out))
    assert refused.exit_code == 1 and "cluster-nodepool-gpu-h100.yaml" in refused.stderr
    assert snapshot(out) == before


def test_force_never_touches_foreign_files(states: dict[str, Any], out: Path) -> None:
    target = out / _EDITED
    target.write_text("# my own file, no stamp\n")  # replaced whole: not the tool's any more
    result = _timed(lambda: render(states["B"], out, "--force"))
    assert result.exit_code == 1 and "did not write" in result.stderr
    assert target.read_text() == "# my own file, no stamp\n"


# -- item 3: a crafted record or journal authorises nothing -----------------------------------

def _user_file(out: Path) -> tuple[Path, str]:
    """A file of the user's inside a folder the tool writes: no stamp."""
    mine = out / "overlays" / "prod" / "mine.yaml"
    mine.write_text("# notes of mine\nkey: value\n")
    return mine, hashlib.sha256(mine.read_bytes()).hexdigest()


def _edit_record(out: Path, change: Callable[[dict[str, Any]], None]) -> None:
    path = out / writer.RECORD
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_record_entry_matching_a_user_file_does_not_delete_it(states: dict[str, Any],
                                                              out: Path) -> None:
    mine, sha = _user_file(out)
    _edit_record(out, lambda d: d["files"].__setitem__(
        "overlays/prod/mine.yaml", {"profile": "prod", "sha256": sha}))
    result = _timed(lambda: render(states["B"], out))
    assert result.exit_code == 0, result.output
    assert mine.read_text() == "# notes of mine\nkey: value\n"
    assert "overlays/prod/mine.yaml is listed in the record but is not a file" in result.stderr
    assert "overlays/prod/mine.yaml" not in writer.read_record(out)


def test_record_naming_a_deleted_profile_does_not_delete_user_file(states: dict[str, Any],
                                                                   out: Path) -> None:
    mine, sha = _user_file(out)
    _edit_record(out, lambda d: d["files"].__setitem__(
        "overlays/prod/mine.yaml", {"profile": "gone", "sha256": sha}))
    assert _timed(lambda: render(states["A"], out)).exit_code == 0
    assert mine.is_file()


_BAD_RECORDS: dict[str, Callable[[dict[str, Any]], None]] = {
    "extra-top-key": lambda d: d.__setitem__("extra", 1),
    "wrong-generator": lambda d: d.__setitem__("generator", "someone"),
    "wrong-version": lambda d: d.__setitem__("version", 2),
    "files-a-list": lambda d: d.__setitem__("files", []),
    "entry-extra-key": lambda d: d["files"]["README.md"].__setitem__("x", "y"),
    "entry-a-string": lambda d: d["files"].__setitem__("README.md", "base"),
    "sha-not-hex": lambda d: d["files"]["README.md"].__setitem__("sha256", "z" * 64),
    "profile-not-a-string": lambda d: d["files"]["README.md"].__setitem__("profile", 5),
    "profile-with-newline": lambda d: d["files"]["README.md"].__setitem__("profile", "a\nb"),
    "path-outside-layout": lambda d: d["files"].__setitem__(
        "notes/mine.txt", dict(d["files"]["README.md"])),
    "path-absolute": lambda d: d["files"].__setitem__("/etc/passwd",
                                                      dict(d["files"]["README.md"])),
    "path-dotdot": lambda d: d["files"].__setitem__("base/../../x.yaml",
                                                    dict(d["files"]["README.md"])),
    "path-is-record": lambda d: d["files"].__setitem__(".aiplat-gen.json",
                                                       dict(d["files"]["README.md"])),
    "path-staging": lambda d: d["files"].__setitem__(".aiplat-gen-staging-x/a.yaml",
                                                     dict(d["files"]["README.md"])),
}


@pytest.mark.parametrize("case", sorted(_BAD_RECORDS))
def test_invalid_record_is_a_clear_error(case: str, states: dict[str, Any], out: Path) -> None:
    _edit_record(out, _BAD_RECORDS[case])
    before = snapshot(out)
    for extra in ([], ["--check"]):
        result = _timed(lambda: render(states["B"], out, *extra))  # noqa: B023
        assert result.exit_code == 1, (case, result.output)
        assert "is not a valid aiplat-gen record" in result.stderr
        assert "git checkout" in result.stderr
    assert snapshot(out) == before


@pytest.mark.parametrize("text", ["", "{", "[]", "null", "\xff"], ids=repr)
def test_unparsable_record_is_a_clear_error(text: str, states: dict[str, Any],
                                            out: Path) -> None:
    (out / writer.RECORD).write_bytes(text.encode("latin-1"))
    result = _timed(lambda: render(states["B"], out))
    assert result.exit_code == 1 and "is not a valid aiplat-gen record" in result.stderr


def _journal(out: Path, victim: str, sha: str, **changes: Any) -> dict[str, Any]:
    info = out.lstat()
    journal: dict[str, Any] = {
        "moves": [victim], "created": [victim], "createdFolders": [],
        "sha256": {victim: sha}, "folder": [info.st_dev, info.st_ino], "inodes": {}}
    journal.update(changes)
    return journal


def _plant_staging(out: Path, journal: Any, owner: Any = "default") -> Path:
    staging = out / f"{writer.STAGING_PREFIX}crafted"
    staging.mkdir()
    if owner == "default":
        info = out.lstat()
        owner = {"folder": [info.st_dev, info.st_ino]}
    if owner is not None:
        (staging / "owner.json").write_text(json.dumps(owner))
    (staging / "journal.json").write_text(json.dumps(journal))
    return staging


def test_crafted_journal_does_not_delete_user_file(states: dict[str, Any], out: Path) -> None:
    """A journal that claims the render created the user's file (right sha256, right folder):
    without the inode of the file it created, nothing is deleted."""
    mine, sha = _user_file(out)
    _plant_staging(out, _journal(out, "overlays/prod/mine.yaml", sha))
    result = _timed(lambda: render(states["A"], out))
    assert result.exit_code == 0, result.output
    assert mine.read_text() == "# notes of mine\nkey: value\n"


def _bad_journals(out: Path, sha: str) -> dict[str, tuple[Any, Any]]:
    victim = "overlays/prod/mine.yaml"
    good = _journal(out, victim, sha)
    return {
        "other-folder": (_journal(out, victim, sha, folder=[1, 2]), "default"),
        "owner-other-folder": (good, {"folder": [1, 2]}),
        "owner-missing": (good, None),
        "owner-garbage": (good, ["x"]),
        "not-an-object": ([], "default"),
        "extra-key": ({**good, "x": 1}, "default"),
        "missing-key": ({k: v for k, v in good.items() if k != "inodes"}, "default"),
        "path-outside": (_journal(out, "../victim.yaml", sha), "default"),
        "path-outside-layout": (_journal(out, "notes.txt", sha), "default"),
        "created-not-moved": (_journal(out, victim, sha, created=["base/x.yaml"]), "default"),
        "sha-not-hex": (_journal(out, victim, "x"), "default"),
        "inode-not-ints": (_journal(out, victim, sha, inodes={victim: ["a", "b"]}), "default"),
        "folders-not-parents": (_journal(out, victim, sha, createdFolders=["base"]), "default"),
        "duplicate-moves": (_journal(out, victim, sha, moves=[victim, victim]), "default"),
    }


_JOURNAL_CASES = ["other-folder", "owner-other-folder", "owner-missing", "owner-garbage",
                  "not-an-object", "extra-key", "missing-key", "path-outside",
                  "path-outside-layout", "created-not-moved", "sha-not-hex", "inode-not-ints",
                  "folders-not-parents", "duplicate-moves"]


@pytest.mark.parametrize("case", _JOURNAL_CASES)
def test_invalid_journal_is_a_clear_error(case: str, states: dict[str, Any], out: Path) -> None:
    mine, sha = _user_file(out)
    journal, owner = _bad_journals(out, sha)[case]
    staging = _plant_staging(out, journal, owner)
    before = snapshot(out)
    result = _timed(lambda: render(states["A"], out))
    assert result.exit_code == 1, (case, result.output)
    assert str(staging) in result.stderr and "does not trust it" in result.stderr or (
        "no owner marker" in result.stderr), result.stderr
    assert snapshot(out) == before and mine.is_file()


def test_journal_copied_from_another_output_is_refused(states: dict[str, Any], out: Path,
                                                       tmp_path: Path) -> None:
    """A staging folder copied with the output folder (cp -r of a folder with a killed render)
    names the original folder: refused, the copy's files stay."""
    mine, sha = _user_file(out)
    _plant_staging(out, _journal(out, "overlays/prod/mine.yaml", sha))
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    result = _timed(lambda: render(states["A"], copy))
    assert result.exit_code == 1 and "another output folder" in result.stderr or (
        "not made by aiplat-gen in this output folder" in result.stderr), result.stderr
    assert (copy / "overlays/prod/mine.yaml").is_file()


def test_empty_staging_folder_is_cleaned_up(states: dict[str, Any], out: Path) -> None:
    """What a render killed right after creating its staging folder leaves: removed."""
    (out / f"{writer.STAGING_PREFIX}abc").mkdir()
    assert _timed(lambda: render(states["A"], out)).exit_code == 0
    assert not list(out.glob(f"{writer.STAGING_PREFIX}*"))


# -- item 10: output folders that would mix the tree with its sources -------------------------

@pytest.mark.parametrize("where", ["/", "..", ".", "profiles", "profiles/sub", "repo"])
def test_out_over_sources_is_a_usage_error(where: str, states: dict[str, Any], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    shutil.copytree(states["A"], repo / "profiles")
    (repo / "work").mkdir()
    monkeypatch.chdir(repo / "work")
    target = {"profiles": "../profiles", "profiles/sub": "../profiles/sub",
              "repo": str(repo), "..": ".."}.get(where, where)
    before = snapshot(repo)
    result = _timed(lambda: _cli("render", "--all", "--profiles-dir", "../profiles",
                                 "--out", target))
    assert result.exit_code == 2, (where, result.output)
    assert f"--out {target}" in result.stderr and "folder of its own" in result.stderr
    assert snapshot(repo) == before
