"""Find profiles, follow their `extends` chain and merge it, keeping every value's origin.

Merge rule (docs/profiles.md): mappings merge key by key; lists whose items are all mappings with a
`name` merge item by item on `name`; other lists replace; an explicit `null` removes a key.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from aiplat_gen.core.errors import Diagnostic, Position, ProfileError, UsageError
from aiplat_gen.profile.loader import display_path, load_file
from aiplat_gen.profile.nodes import Node

PROFILE_SUFFIX = ".yaml"
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class ProfileSource:
    """A profile as found on disk, merged with its parents (root first in ``chain``)."""

    name: str
    path: Path
    tree: Node
    chain: tuple[str, ...]

    @property
    def parent(self) -> str | None:
        """The profile this one extends, or None for a root profile."""
        return self.chain[-2] if len(self.chain) > 1 else None


def profile_names(folder: Path) -> list[str]:
    """Names of all profiles in a folder, sorted."""
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob(f"*{PROFILE_SUFFIX}") if not p.stem.startswith("_"))


def locate(ref: str, profiles_dir: Path) -> tuple[str, Path]:
    """Turn a profile argument (a name like `prod` or a path to a .yaml file) into (name, path)."""
    if ref.endswith((".yaml", ".yml")) or "/" in ref or "\\" in ref:
        path = Path(ref)
        if not path.is_file():
            raise UsageError(f"profile file {ref} not found")
        return path.stem, path
    path = profiles_dir / f"{ref}{PROFILE_SUFFIX}"
    if not path.is_file():
        known = profile_names(profiles_dir)
        close = difflib.get_close_matches(ref, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        listing = ", ".join(known) if known else "none"
        raise UsageError(f"no profile {ref!r} in {display_path(profiles_dir)} "
                         f"(profiles: {listing}){hint}")
    return ref, path


def load_profile(path: Path) -> ProfileSource:
    """Load a profile file and merge the chain of profiles it extends."""
    folder = path.parent
    name = path.stem
    chain: list[tuple[str, Node]] = []
    seen: list[str] = []
    current_name, current_path = name, path
    while True:
        node = load_file(current_path)
        seen.append(current_name)
        chain.append((current_name, node))
        assert isinstance(node.value, dict)
        parent = node.value.get("extends")
        if parent is None or parent.value is None:
            break
        current_name, current_path = _parent_path(parent, folder, seen)
    merged = Node({}, chain[-1][1].pos)
    for _, node in reversed(chain):
        merged = merge(merged, node)
    assert isinstance(merged.value, dict)
    merged.value.pop("extends", None)
    ordered = tuple(n for n, _ in reversed(chain))
    return ProfileSource(name=name, path=path, tree=merged, chain=ordered)


def _parent_path(parent: Node, folder: Path, seen: list[str]) -> tuple[str, Path]:
    ref = parent.value
    if not isinstance(ref, str) or not _NAME.match(ref):
        shown = repr(ref) if not isinstance(ref, dict | list) else f"a {type(ref).__name__}"
        raise ProfileError("bad extends", [Diagnostic(
            parent.pos, "extends", f"{shown} is not a profile name",
            "name a profile in the same folder, without a path or `.yaml`, e.g. `extends: base`")])
    if ref in seen:
        cycle = " -> ".join([*seen, ref])
        raise ProfileError("extends cycle", [Diagnostic(
            parent.pos, "extends", f"extends cycle: {cycle}",
            "a chain must end at a root profile")])
    path = folder / f"{ref}{PROFILE_SUFFIX}"
    if not path.is_file():
        close = difflib.get_close_matches(ref, profile_names(folder), n=1)
        hint = f"did you mean {close[0]!r}?" if close else "parents live in the same folder"
        raise ProfileError("missing parent", [Diagnostic(
            parent.pos, "extends", f"parent profile {ref!r} not found", hint)])
    if path.resolve().parent != folder.resolve():
        raise ProfileError("parent outside", [Diagnostic(
            parent.pos, "extends", f"parent profile {ref!r} resolves outside the profiles folder",
            "parents must be regular files in the same folder")])
    return ref, path


def _named(items: list[Node]) -> bool:
    return bool(items) and all(
        isinstance(i.value, dict) and isinstance(i.value.get("name", Node(None, i.pos)).value, str)
        for i in items
    )


def merge(parent: Node, child: Node) -> Node:
    """Merge child over parent by the profile merge rule; results keep each value's origin."""
    if isinstance(parent.value, dict) and isinstance(child.value, dict):
        result = dict(parent.value)
        for key, value in child.value.items():
            if value.value is None:
                result.pop(key, None)
            elif key in result:
                result[key] = merge(result[key], value)
            else:
                result[key] = merge(Node({}, value.pos), value) if isinstance(
                    value.value, dict) else value
        return Node(result, child.pos)
    if isinstance(parent.value, list) and isinstance(child.value, list) and _named(
            parent.value) and _named(child.value):
        by_name = {_name(i): i for i in parent.value}
        order = [_name(i) for i in parent.value]
        for item in child.value:
            key = _name(item)
            if key in by_name:
                by_name[key] = merge(by_name[key], item)
            else:
                by_name[key] = merge(Node({}, item.pos), item)
                order.append(key)
        return Node([by_name[k] for k in order], child.pos)
    if isinstance(child.value, dict):
        return merge(Node({}, child.pos), child)
    return child


def _name(item: Node) -> str:
    assert isinstance(item.value, dict)
    value = item.value["name"].value
    assert isinstance(value, str)
    return value


def root_position(source: ProfileSource) -> Position:
    """Where the profile itself starts, for diagnostics about the whole file."""
    return Position(display_path(source.path), 1, 1)
