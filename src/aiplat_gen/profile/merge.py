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
from aiplat_gen.core.hints import listed
from aiplat_gen.profile.loader import display_path, load_file
from aiplat_gen.profile.nodes import Node

PROFILE_SUFFIX = ".yaml"
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
MAX_CHAIN = 32
"""The longest `extends` chain, root included. Real trees are a root and two or three layers
(base -> environment -> region); 32 is ten times that, keeps a chain inside the loader's parse
cache (`loader._PARSED_MAX`, also 32) and makes a runaway generated chain a located error
instead of a slow load."""


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
    """Names of all profiles in a folder, sorted. Anything named `*.yaml` counts, a FIFO or a
    folder included, so that loading refuses it at its path instead of skipping it silently."""
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob(f"*{PROFILE_SUFFIX}") if not p.stem.startswith("_"))


def locate(ref: str, profiles_dir: Path) -> tuple[str, Path]:
    """Turn a profile argument (a name like `prod` or a path to a .yaml file) into (name, path).

    A path that exists but is not a regular file (a FIFO, a device) is returned: the loader
    refuses it at its path, without opening it for a blocking read."""
    if ref.endswith((".yaml", ".yml")) or "/" in ref or "\\" in ref:
        path = Path(ref)
        if not path.exists() or path.is_dir():
            raise UsageError(f"profile file {ref} not found")
        return path.stem, path
    path = profiles_dir / f"{ref}{PROFILE_SUFFIX}"
    if not path.exists():
        known = profile_names(profiles_dir)
        close = difflib.get_close_matches(ref, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        listing = listed(known) if known else "none"
        raise UsageError(f"no profile {ref!r} in {display_path(profiles_dir)} "
                         f"(profiles: {listing}){hint}")
    return ref, path


Loaded = dict[Path, "ProfileSource | ProfileError"]
"""Profiles already loaded and merged in this run (or the error that stopped them), by absolute
path: a parent shared by many profiles, or a long chain loaded profile by profile, is read and
merged once."""

_CHAIN_HINT = ("a chain is a root and a few layers (base -> environment -> region); flatten the "
               "middle of the chain")


def load_profile(path: Path, loaded: Loaded | None = None) -> ProfileSource:
    """Load a profile file and merge the chain of profiles it extends.

    With `loaded`, each profile of the chain is merged once over its parent's merged tree and
    kept there, so loading every profile of a chain of n is linear in n, not quadratic. A chain
    is at most `MAX_CHAIN` profiles long: the error is at the `extends` of the first profile past
    the bound when the rest of the chain is known, else of the last of `MAX_CHAIN` profiles read
    without reaching a root (the walk never reads more)."""
    loaded = {} if loaded is None else loaded
    pending: list[tuple[str, Path, Node]] = []  # nearest first, down to a loaded one or a root
    try:
        base = _walk(path, loaded, pending)
        tree = base.tree if base is not None else None
        chain = base.chain if base is not None else ()
        for name, file, node in reversed(pending):
            if len(chain) == MAX_CHAIN:
                raise _too_long(node)
            merged = merge(tree if tree is not None else Node({}, node.pos), node)
            assert isinstance(merged.value, dict)
            merged.value.pop("extends", None)
            tree, chain = merged, (*chain, name)
            base = ProfileSource(name=name, path=file, tree=merged, chain=chain)
            loaded[file.absolute()] = base
    except ProfileError as exc:
        for _, file, _ in pending:  # the error of a profile is the error of its children
            loaded.setdefault(file.absolute(), exc)
        raise
    assert base is not None
    return base


def _walk(path: Path, loaded: Loaded, pending: list[tuple[str, Path, Node]]
          ) -> ProfileSource | None:
    """Read `path` and its parents into `pending` until a root (None) or a loaded profile."""
    folder = path.parent
    current_name, current_path = path.stem, path
    while (hit := loaded.get(current_path.absolute())) is None:
        if len(pending) == MAX_CHAIN:
            raise _too_long(pending[-1][2])
        node = load_file(current_path)
        pending.append((current_name, current_path, node))
        assert isinstance(node.value, dict)
        parent = node.value.get("extends")
        if parent is None or parent.value is None:
            return None
        current_name, current_path = _parent_path(parent, folder, [n for n, _, _ in pending])
    if isinstance(hit, ProfileError):
        raise hit
    return hit


def _too_long(node: Node) -> ProfileError:
    assert isinstance(node.value, dict)
    return ProfileError("extends chain too long", [Diagnostic(
        node.value["extends"].pos, "extends", f"extends chain longer than {MAX_CHAIN} profiles",
        _CHAIN_HINT)])


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
    if not path.exists():
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
