"""One error hierarchy, one exit-code enum, and the located diagnostics every error carries."""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from aiplat_gen.core.hints import listed
from aiplat_gen.core.redact import redact


class ExitCode(enum.IntEnum):
    """Process exit codes, the same for every verb."""

    OK = 0
    INVALID = 1  # invalid profile or failed check
    USAGE = 2
    DRIFT = 3  # `render --check` found stale output
    INTERNAL = 4


MAX_SHOWN = 200
"""The most characters of a value (or of a tool's output) a message quotes."""


def capped(text: str, limit: int = MAX_SHOWN) -> str:
    """`text` as a message quotes it: whole when short, else its first `limit` characters and
    its length (a 900,000-character value or 300 MB of a tool's output is not echoed whole)."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"


MAX_MESSAGE = 4000
"""The longest message (or hint) shown; every legitimate one is far shorter (the longest lists an
`extends` chain of at most 32 names)."""
_LONG_RUN = re.compile(rf"\S{{{MAX_SHOWN + 1},}}")


def shorten(text: str) -> str:
    """A message with each run of more than `MAX_SHOWN` non-blank characters (a quoted value,
    a tool's output line) capped, then the whole capped at `MAX_MESSAGE`."""
    if len(text) <= MAX_SHOWN:
        return text
    return capped(_LONG_RUN.sub(lambda m: capped(m.group()), text), MAX_MESSAGE)


class Severity(enum.Enum):
    """How bad a diagnostic is: errors stop a render, warnings do not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Position:
    """A place in a source file; line and column are 1-based."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class ProfileRef:
    """A profile a diagnostic was found in: its name and its `extends` chain (root first, the
    profile itself last; empty when the chain could not be read)."""

    name: str
    chain: tuple[str, ...] = ()

    def __str__(self) -> str:
        if len(self.chain) > 1:
            return f"{self.name} ({' -> '.join(self.chain)})"
        return self.name


@dataclass(frozen=True)
class Diagnostic:
    """One problem with its location, the dotted profile path, a message and a hint; the
    profiles being validated when it was found (one diagnostic may stand for several profiles
    that share the cause), and the source line it points into, when that helps (a syntax error)."""

    position: Position | None
    path: str
    message: str
    hint: str = ""
    severity: Severity = Severity.ERROR
    profiles: tuple[ProfileRef, ...] = ()
    excerpt: str = ""

    def __post_init__(self) -> None:
        # Every message that may quote a profile value passes here: none echoes a credential,
        # and a huge value is shown by its start and its length.
        for name in ("path", "message", "hint", "excerpt"):
            object.__setattr__(self, name, shorten(redact(getattr(self, name))))

    def sort_key(self) -> tuple[str, int, int, str, str]:
        """Order by file, line, column, then path and message, for stable reports."""
        pos = self.position or Position("", 0, 0)
        return (pos.file, pos.line, pos.column, self.path, self.message)

    def __str__(self) -> str:
        where = f"{self.position}: " if self.position else ""
        path = f"{self.path}: " if self.path else ""
        hint = f" ({self.hint})" if self.hint else ""
        level = "warning: " if self.severity is Severity.WARNING else ""
        profiles = f" [{self.profiles_text()}]" if self.profiles else ""
        return f"{where}{level}{path}{self.message}{hint}{profiles}"

    def profiles_text(self) -> str:
        """`profile canary (base -> prod -> canary)`, or `profiles dev (base -> dev), ...`."""
        word = "profile" if len(self.profiles) == 1 else "profiles"
        return f"{word} {listed([str(p) for p in self.profiles])}"

    def key(self) -> tuple[object, ...]:
        """Everything but the profiles: diagnostics with the same key share one root cause."""
        return (self.position, self.path, self.message, self.hint, self.severity, self.excerpt)

    def for_profile(self, profile: ProfileRef) -> Diagnostic:
        """This diagnostic found while validating `profile` (kept when it names it already)."""
        if profile in self.profiles:
            return self
        return dataclasses.replace(self, profiles=(*self.profiles, profile))


def merge_duplicates(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """One diagnostic per root cause: those identical but for their profiles (a bad value in a
    parent, found once per child) become one that lists every profile it affects, in order."""
    merged: dict[tuple[object, ...], Diagnostic] = {}
    for d in diagnostics:
        first = merged.get(d.key())
        if first is None:
            merged[d.key()] = d
        else:
            profiles = tuple(dict.fromkeys((*first.profiles, *d.profiles)))
            merged[d.key()] = dataclasses.replace(first, profiles=profiles)
    return list(merged.values())


class AiplatError(Exception):
    """Base class of every error the tool reports to the user; it knows its exit code."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str = "", diagnostics: list[Diagnostic] | None = None) -> None:
        message = shorten(redact(message))
        super().__init__(message)
        self.message = message
        self.diagnostics: list[Diagnostic] = sorted(diagnostics or [], key=Diagnostic.sort_key)


class UsageError(AiplatError):
    """The command line is wrong (unknown profile name, conflicting options)."""

    exit_code = ExitCode.USAGE


class ProfileError(AiplatError):
    """The profile (or one of its parents) is invalid; carries every diagnostic at once."""

    exit_code = ExitCode.INVALID


class TemplateError(AiplatError):
    """A template of --templates-dir is broken or unsafe (located at its file and line)."""

    exit_code = ExitCode.INVALID


class OutputError(AiplatError):
    """The output folder cannot be written safely (a foreign file in the way, no permission)."""

    exit_code = ExitCode.INVALID


class DriftError(AiplatError):
    """`render --check` found files that differ from a fresh render."""

    exit_code = ExitCode.DRIFT

    def __init__(self, message: str, stale: list[str]) -> None:
        super().__init__(message)
        self.stale = stale


@dataclass
class DiagnosticBag:
    """Collects diagnostics during a pass so that every problem is reported at once."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, diagnostic: Diagnostic) -> None:
        """Record one diagnostic."""
        self.items.append(diagnostic)

    @property
    def errors(self) -> list[Diagnostic]:
        """The diagnostics that stop a render."""
        return [d for d in self.items if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        """The diagnostics that are reported but do not stop a render."""
        return [d for d in self.items if d.severity is Severity.WARNING]
