"""The follow worker's folding of recorded real log lines (pure, no terminal)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.app.feed import Feed, make_entry
from tui.core.runstate import Outcome, Phase
from tui.core.text import printable

LOGS = Path(__file__).parents[1] / "snapshots" / "logs"


@pytest.mark.parametrize(("name", "phase", "outcome"), [
    ("idle.log", Phase.ENDED, Outcome.SUCCESS),
    ("running.log", Phase.RUNNING, Outcome.RUNNING),
    ("aborted.log", Phase.ENDED, Outcome.ABORTED),
    ("failed.log", Phase.ENDED, Outcome.FAILED),
])
def test_recorded_logs_fold_to_their_state(name: str, phase: Phase, outcome: Outcome) -> None:
    feed = Feed(max_entries=100_000)
    feed.feed((LOGS / name).read_bytes().splitlines())
    assert feed.state.phase is phase
    assert feed.state.outcome is outcome
    assert feed.started_by == "cli"
    entries = feed.take()
    kinds = {e.kind for e in entries}
    assert "start" in kinds
    assert not any(e.text.startswith("{") for e in entries)  # stats lines are not shown raw
    assert not feed.pending and not feed.dirty


def test_per_file_lines_and_errors() -> None:
    feed = Feed()
    feed.feed((LOGS / "failed.log").read_bytes().splitlines())
    entries = feed.take()
    copied = [e for e in entries if "Copied (new)" in e.text]
    errors = [e for e in entries if e.kind == "error"]
    assert copied and all(e.per_file for e in copied)
    assert errors and not any(e.per_file for e in errors)


def test_markup_file_names_stay_plain() -> None:
    feed = Feed()
    feed.feed((LOGS / "idle.log").read_bytes().splitlines())
    texts = [e.text for e in feed.take()]
    assert any("documents/x[/bold].txt: Copied (new)" in t for t in texts)
    assert any("documents/[red]report[b].pdf: Copied (new)" in t for t in texts)


def test_bounded_pending_and_notes() -> None:
    feed = Feed(max_entries=10)
    lines = [b"2026/11/25 03:00:01 INFO  : a/f%d.bin: Copied (new)" % i for i in range(50)]
    feed.feed(lines)
    feed.note("waiting for the log file to appear")
    feed.note("waiting for the log file to appear")  # repeats are dropped
    entries = feed.take()
    assert len(entries) == 10
    assert entries[-1].kind == "wait"  # a state the log view drops once lines follow
    assert sum(e.kind == "wait" for e in entries) == 1
    assert feed.state.copied == 50  # all lines counted, even those not kept for display


def test_control_characters_are_replaced() -> None:
    assert printable("a\x1b[31mb\tc") == "a\ufffd[31mb c"
    entry = make_entry("info", "wide 名前")
    assert entry.width == len("wide ") + 4
