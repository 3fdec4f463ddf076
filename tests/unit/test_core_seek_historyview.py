"""The `/` search positions (tui/core/seek.py) and the history screen's pure view
(tui/core/historyview.py), on the recorded fixture history."""

from __future__ import annotations

from datetime import UTC

import pytest

from tests.history.screens_app import fixture_loader
from tui.core.historyview import HistoryView, outcome_width, trend_bar
from tui.core.runfilter import FilterError
from tui.core.seek import Matches, contains_words
from tui.core.units import format_bytes


def test_matches_step_wraps_and_says_where() -> None:
    m = Matches.find(["a/x", "b", "c/x", "d", "e/x"], "x", contains_words)
    assert m.rows == (0, 2, 4)
    assert m.step(0) == 2 and m.step(4) == 0  # wraps forwards
    assert m.step(0, backwards=True) == 4 and m.step(3, backwards=True) == 2
    assert m.step(2, include=True) == 2 and m.step(1, include=True) == 2
    assert m.position(2) == "2/3" and m.position(1) == "3 found"
    empty = Matches.find(["a"], "  ", contains_words)
    assert empty.rows == () and empty.step(0) is None and empty.position(0) == "0 found"


def test_view_failures_then_search_then_escape_order() -> None:
    view = HistoryView(fixture_loader().runs)
    assert len(view.rows) == 14 and view.rows[0].id == "20261125T143056-b632"  # newest first
    view.toggle_failures()
    assert [str(r.outcome) for r in view.rows] == ["failed"] * 6
    view.search("c/new.txt")
    assert [view.rows[i].id for i in view.matches.rows] == [
        "20261125T143055-6740", "legacy-20261125T143053Z-4"]
    assert "failures only: 6 of 14 runs" in view.status(1)
    assert "/c/new.txt: 1/2" in view.status(1)
    assert view.clear_one() and not view.matches.term and view.failures_only
    assert view.clear_one() and not view.failures_only and len(view.rows) == 14
    assert not view.clear_one()


def test_view_date_row_and_its_errors() -> None:
    view = HistoryView(fixture_loader().runs)  # all on 2026-11-25 (UTC)
    assert view.date_row("2026-11-25", UTC) == 13  # the oldest, at the bottom
    with pytest.raises(FilterError, match="no run on or after 2026-11-26"):
        view.date_row("2026-11-26", UTC)
    with pytest.raises(FilterError, match="not an ISO date"):
        view.date_row("yesterday", UTC)


def test_outcome_width_and_trend_bar() -> None:
    assert outcome_width(80) == 12 and outcome_width(120) == 20
    bar = trend_bar([3 * 2**20, 6 * 2**20, 883 * 2**30], format_bytes)
    assert (bar.top, bar.bottom, bar.outliers) == ("883 GiB", "3.0 MiB", 1)
    assert bar.data[0] > 0.5 * bar.data[2]  # log scale: linear would give 3e-6
    assert trend_bar([], format_bytes).data == []
