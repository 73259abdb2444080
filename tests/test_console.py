"""Terminal output: colour and boxes on a terminal, plain text elsewhere or with NO_COLOR, and a
progress display only on a terminal and only for work that takes a moment."""

from __future__ import annotations

import io
import time

import pytest

from aiplat_gen.reports.console import (
    Column,
    Report,
    Table,
    colour_enabled,
    markdown,
    plain,
    print_report,
    progress,
)


class FakeTerminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


TABLE = Table("Pools", (Column("pool"), Column("GPUs", "right")),
              (("gpu-h100", "16"), ("l4|spot", "4")), ("", "warn"), note="per node")
REPORT = Report("plan for prod", (TABLE,), ("l4: 1 replica does not fit",), ("cost: 1.00",))


@pytest.fixture(autouse=True)
def _terminal_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "120")


def test_plain_text_is_aligned_and_deterministic() -> None:
    assert plain(REPORT) == (
        "plan for prod\n"
        "\n"
        "Pools\n"
        "pool      GPUs\n"
        "--------  ----\n"
        "gpu-h100    16\n"
        "l4|spot      4\n"
        "per node\n"
        "\n"
        "warning: l4: 1 replica does not fit\n"
        "\n"
        "cost: 1.00\n")


def test_markdown_escapes_pipes_and_aligns_numbers() -> None:
    text = markdown(REPORT, level=1)
    assert text.startswith("# plan for prod\n\n## Pools\n\n| pool | GPUs |\n| --- | ---: |\n")
    assert "| l4\\|spot | 4 |" in text
    assert "- **warning**: l4: 1 replica does not fit" in text


def test_colour_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    assert colour_enabled(FakeTerminal())
    assert not colour_enabled(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "")  # empty means unset (no-color.org)
    assert colour_enabled(FakeTerminal())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not colour_enabled(FakeTerminal())
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "dumb")
    assert not colour_enabled(FakeTerminal())


def test_a_terminal_gets_a_coloured_table_and_no_color_gets_plain_text(
        monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = FakeTerminal()
    print_report(REPORT, terminal)
    drawn = terminal.getvalue()
    assert "\x1b[" in drawn  # ANSI styles
    assert "gpu-h100" in drawn and "warning: l4: 1 replica does not fit" in drawn
    assert "\x1b[33m" in drawn  # the warning row and line in yellow
    monkeypatch.setenv("NO_COLOR", "1")
    terminal = FakeTerminal()
    print_report(REPORT, terminal)
    assert terminal.getvalue() == plain(REPORT)
    piped = io.StringIO()
    monkeypatch.delenv("NO_COLOR")
    print_report(REPORT, piped)
    assert piped.getvalue() == plain(REPORT)


def test_a_table_too_wide_for_the_terminal_is_printed_plain(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "12")
    terminal = FakeTerminal()
    print_report(REPORT, terminal)
    assert "gpu-h100    16" in terminal.getvalue()


def test_progress_draws_only_on_a_terminal_after_the_delay() -> None:
    terminal = FakeTerminal()
    with progress("rendering", 2, terminal, delay=0.0) as step:
        step("base")
        time.sleep(0.5)
        step("prod")
        time.sleep(0.3)
    assert "rendering" in terminal.getvalue()
    quick = FakeTerminal()
    with progress("rendering", None, quick, delay=5.0) as step:
        step("base")
    assert quick.getvalue() == ""
    piped = io.StringIO()
    with progress("rendering", 2, piped, delay=0.0) as step:
        step("base")
        time.sleep(0.3)
    assert piped.getvalue() == ""


def test_progress_leaves_no_display_behind_when_the_work_fails() -> None:
    terminal = FakeTerminal()
    with pytest.raises(RuntimeError), progress("checking", None, terminal, delay=0.0) as step:
        step("kustomize build base")
        time.sleep(0.3)
        raise RuntimeError("boom")
    size = len(terminal.getvalue())
    time.sleep(0.3)
    assert len(terminal.getvalue()) == size  # stopped: nothing draws after the block
