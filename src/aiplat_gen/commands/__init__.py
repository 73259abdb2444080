"""The verbs of aiplat-gen, one module each: a request dataclass in, a result out, and a table of
reporters (format -> how the result prints). The CLI parses options into a request, calls the
verb and prints with the reporter of the chosen format."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, TypeVar

R = TypeVar("R", contravariant=True)

Reporter = Callable[[R, IO[str]], None]
"""Prints a result on a stream in one format."""


def writes(text: Callable[[R], str]) -> Reporter[R]:
    """A reporter that writes what `text(result)` returns."""
    def report(result: R, out: IO[str]) -> None:
        out.write(text(result))

    return report
