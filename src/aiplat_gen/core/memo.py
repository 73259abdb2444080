"""Results computed once per object: a frozen profile is walked by many checks and components,
so what they derive from it (its resolved view, its values, its secret references) is kept for
the last few profiles, keyed by the object itself, not its value (hashing a profile would walk
it, and two equal profiles from different files are different inputs)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


class _Identity:
    """An object as a cache key: equal only to itself."""

    __slots__ = ("obj",)

    def __init__(self, obj: object) -> None:
        self.obj = obj

    def __hash__(self) -> int:
        return id(self.obj)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Identity) and other.obj is self.obj


def per_object(maxsize: int) -> Callable[[Callable[[T], R]], Callable[[T], R]]:
    """Decorate a function of one immutable object: its result is kept for the last `maxsize`
    objects it was called with (the cache holds them alive until they are pushed out)."""

    def decorate(function: Callable[[T], R]) -> Callable[[T], R]:
        @functools.lru_cache(maxsize=maxsize)
        def cached(key: _Identity) -> R:
            return function(key.obj)  # type: ignore[arg-type]

        @functools.wraps(function)
        def wrapper(obj: T) -> R:
            return cached(_Identity(obj))

        return wrapper

    return decorate
