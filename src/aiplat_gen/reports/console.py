"""Terminal output: tables that are coloured and boxed on a terminal, plain aligned text elsewhere.

Reports (`plan`, the tables of `output/README.md`) are built as `Report`s of `Table`s, which know
nothing about terminals. `print_report` shows them with rich when standard output is a terminal,
and as plain text when it is not (a pipe, a file, CI logs, tests), when `NO_COLOR` is set to
anything but the empty string (https://no-color.org), or when `TERM=dumb`; the plain text is
deterministic, so it can be diffed and kept as a golden file. `markdown` renders the same tables
for Markdown files.

`progress` shows a transient progress bar on standard error for work that takes more than a
moment (`render --all`, `check --all`): only when standard error is a terminal, and only once the
work has run for `PROGRESS_DELAY` seconds, so quick runs and captured output never see it.

rich is imported inside the functions that draw, so commands that print no table start fast.
"""

from __future__ import annotations

import os
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

Step = Callable[[str], None]
"""What `progress` yields: call it with the name of each step as it starts."""
Align = Literal["left", "right"]
Tone = Literal["", "ok", "warn", "error", "dim"]
NOTE_WIDTH = 100
"""Plain-text notes wrap at this width."""
PROGRESS_DELAY = 0.5
"""Seconds of work before a progress bar appears."""

_STYLES: dict[str, str] = {"ok": "green", "warn": "yellow", "error": "bold red", "dim": "dim"}


@dataclass(frozen=True)
class Column:
    """A table column: its header and how its cells align."""

    header: str
    align: Align = "left"


@dataclass(frozen=True)
class Table:
    """A titled table; `tones` colours whole rows on a terminal (same length as `rows`, or
    empty)."""

    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...]
    tones: tuple[Tone, ...] = ()
    note: str = ""

    def tone(self, index: int) -> Tone:
        """The tone of row `index` ("" when none)."""
        return self.tones[index] if index < len(self.tones) else ""


@dataclass(frozen=True)
class Report:
    """A heading, tables, then warnings and closing lines."""

    heading: str
    tables: tuple[Table, ...]
    warnings: tuple[str, ...] = ()
    footer: tuple[str, ...] = field(default_factory=tuple)


def colour_enabled(stream: IO[str]) -> bool:
    """Whether `stream` gets colour and boxes: a terminal, `NO_COLOR` unset or empty, and a
    terminal type other than `dumb`."""
    if os.environ.get("NO_COLOR", ""):
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def plain_table(table: Table) -> str:
    """A table as aligned plain text: title, header, a rule, rows, note."""
    widths = [len(c.header) for c in table.columns]
    for row in table.rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [cell.rjust(w) if col.align == "right" else cell.ljust(w)
                 for cell, w, col in zip(cells, widths, table.columns, strict=True)]
        return "  ".join(parts).rstrip()

    lines = [table.title, line([c.header for c in table.columns]),
             "  ".join("-" * w for w in widths)]
    lines.extend(line(row) for row in table.rows)
    if table.note:
        lines.extend(textwrap.wrap(table.note, NOTE_WIDTH, break_on_hyphens=False))
    return "\n".join(lines) + "\n"


def plain_width(table: Table) -> int:
    """Characters the widest line of a table's rows takes as plain text."""
    widths = [len(c.header) for c in table.columns]
    for row in table.rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    return sum(widths) + 2 * (len(widths) - 1)


def plain(report: Report) -> str:
    """A report as plain text (what non-terminals, `NO_COLOR` and golden files get)."""
    chunks = [report.heading + "\n"]
    chunks.extend(plain_table(t) for t in report.tables)
    if report.warnings:
        chunks.append("".join(f"warning: {w}\n" for w in report.warnings))
    if report.footer:
        chunks.append("".join(f"{line}\n" for line in report.footer))
    return "\n".join(chunks)


def _escape_cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_table(table: Table, level: int = 3) -> str:
    """A table as a Markdown (GitHub) table under a heading of the given level."""
    lines = [f"{'#' * level} {table.title}", ""] if table.title else []
    lines.append("| " + " | ".join(_escape_cell(c.header) for c in table.columns) + " |")
    lines.append("| " + " | ".join("---:" if c.align == "right" else "---"
                                    for c in table.columns) + " |")
    lines.extend("| " + " | ".join(_escape_cell(cell) for cell in row) + " |"
                 for row in table.rows)
    if table.note:
        lines.extend(["", table.note])
    return "\n".join(lines) + "\n"


def markdown(report: Report, level: int = 2) -> str:
    """A report as Markdown: the heading at `level`, each table one level below."""
    chunks = [f"{'#' * level} {report.heading}\n"]
    chunks.extend(markdown_table(t, level + 1) for t in report.tables)
    if report.warnings:
        chunks.append("".join(f"- **warning**: {w}\n" for w in report.warnings))
    if report.footer:
        chunks.append("".join(f"{line}\n" for line in report.footer))
    return "\n".join(chunks)


def print_report(report: Report, stream: IO[str] | None = None) -> None:
    """Show a report on `stream` (default: standard output): rich tables on a terminal, plain
    text otherwise."""
    out = stream if stream is not None else sys.stdout
    if not colour_enabled(out):
        out.write(plain(report))
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table as RichTable

    console = Console(file=out, force_terminal=True, highlight=False)
    console.print(report.heading, style="bold", markup=False)
    for table in report.tables:
        # Boxed, a table takes one more space between columns and one at each edge; when
        # that is too wide, plain lines (wrapped by the terminal) stay legible.
        if plain_width(table) + len(table.columns) + 1 > console.width:
            console.print(plain_table(table), markup=False, highlight=False, soft_wrap=True)
            continue
        rich_table = RichTable(title=table.title, title_justify="left", title_style="bold cyan",
                               box=box.SIMPLE_HEAD, caption=table.note or None,
                               caption_justify="left", header_style="bold", pad_edge=False)
        for index, column in enumerate(table.columns):
            # Cells keep their width; on a narrow terminal headers wrap at their spaces.
            widest = max([len(row[index]) for row in table.rows]
                         + [len(word) for word in column.header.split()])
            rich_table.add_column(column.header, justify=column.align, min_width=widest)
        for index, row in enumerate(table.rows):
            rich_table.add_row(*row, style=_STYLES.get(table.tone(index)))
        console.print(rich_table)
    for warning in report.warnings:
        console.print(f"warning: {warning}", style="yellow", markup=False)
    for line in report.footer:
        console.print(line, markup=False)


class _Bar:
    """The state behind `progress`: a rich bar started late, from a timer thread."""

    def __init__(self, label: str, total: int | None, stream: IO[str]) -> None:
        self.label = label
        self.total = total
        self.stream = stream
        self.done = 0
        self.current = ""
        self.lock = threading.Lock()
        self.bar: Progress | None = None
        self.task: TaskID | None = None
        self.closed = False

    def start(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        with self.lock:
            if self.closed:
                return
            console = Console(file=self.stream, force_terminal=True)
            self.bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                                transient=True, redirect_stdout=False, redirect_stderr=False)
            self.task = self.bar.add_task(self._description(), total=self.total,
                                          completed=self.done)
            self.bar.start()

    def _description(self) -> str:
        return f"{self.label}: {self.current}" if self.current else self.label

    def step(self, what: str) -> None:
        with self.lock:
            if self.current:
                self.done += 1
            self.current = what
            if self.bar is not None and self.task is not None:
                self.bar.update(self.task, completed=self.done, description=self._description())

    def close(self) -> None:
        with self.lock:
            self.closed = True
            if self.bar is not None:
                self.bar.stop()


@contextmanager
def progress(label: str, total: int | None, stream: IO[str] | None = None,
             delay: float = PROGRESS_DELAY) -> Iterator[Step]:
    """A progress display for `total` steps (None: not known in advance); yields
    `step(what)`, to call as each step starts.

    Nothing is drawn unless `stream` (default: standard error) is a terminal with colour enabled
    and the work is still running after `delay` seconds; the display disappears when done.
    """
    out = stream if stream is not None else sys.stderr
    if total == 0 or not colour_enabled(out):
        yield _quiet
        return
    state = _Bar(label, total, out)
    timer = threading.Timer(delay, state.start)
    timer.daemon = True
    timer.start()
    try:
        yield state.step
    finally:
        timer.cancel()
        state.close()


def _quiet(what: str) -> None:
    """A progress step that shows nothing."""
