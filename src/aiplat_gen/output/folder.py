"""Where a render may write: never over the profiles or the repository it renders from."""

from __future__ import annotations

from pathlib import Path

from aiplat_gen.core.errors import UsageError


def _git_root(start: Path) -> Path | None:
    """The nearest folder at or above `start` that holds `.git` (a folder, or a file for a
    worktree or submodule)."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def check_out_dir(out: Path, profiles_dir: Path) -> None:
    """Refuse (usage error) an output folder that is the filesystem root, the profiles folder or
    a folder inside it, or the current folder, the repository's root, the profiles folder or an
    ancestor of any of them: a render there would mix its tree with what it renders from."""
    where = out.resolve()
    profiles = profiles_dir.resolve()
    cwd = Path.cwd().resolve()
    hint = "render into a folder of its own, such as --out output"
    if where == Path(where.anchor):
        raise UsageError(f"--out {out} is the filesystem root; {hint}")
    if where == profiles or profiles in where.parents:
        raise UsageError(f"--out {out} is inside the profiles folder {profiles_dir}; {hint}")
    guarded = {"the profiles folder": profiles, "the current folder": cwd}
    root = _git_root(cwd)
    if root is not None:
        guarded["the repository"] = root
    for name, folder in guarded.items():
        if where == folder or where in folder.parents:
            relation = "is" if where == folder else "contains"
            raise UsageError(f"--out {out} {relation} {name} ({folder}); {hint}")
