"""The history screen on three years of nightly runs: the newest page is painted first and
the rest follows, and nothing that reads or moves past that page sees a half-filled table
(a date jump, a search step, G, opening a run)."""

from __future__ import annotations

from textual.widgets import DataTable

from tests.history.screens_app import NightsApp, years_history
from tests.history.test_history_screens import _loaded
from tui.app.screens.history import FIRST_PAGE, HistoryScreen

NIGHTS = 1100


def _table(screen: HistoryScreen) -> DataTable[object]:
    return screen.query_one("#history-table", DataTable)


async def test_the_newest_page_first_then_every_night() -> None:
    app = NightsApp(years_history)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _loaded(pilot, app)
        table = _table(screen)
        assert table.row_count == NIGHTS
        first = [str(c) for c in table.get_row_at(0)]
        last = [str(c) for c in table.get_row_at(NIGHTS - 1)]
        assert first[1] == "2026-11-15 03:00" and last[1] == "2023-11-12 03:00"
        # Shown again (a reload): the first page is in the table when show_history returns,
        # the rest comes after the next paint.
        screen.show_history(years_history(NIGHTS))
        assert table.row_count == FIRST_PAGE
        await pilot.pause()
        assert table.row_count == NIGHTS


async def test_a_jump_past_the_first_page_completes_it_first() -> None:
    app = NightsApp(years_history)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _loaded(pilot, app)
        screen.show_history(years_history(NIGHTS))
        assert _table(screen).row_count == FIRST_PAGE
        screen._goto_date("2024-01-01")  # what `d 2024-01-01 Enter` runs
        run = screen.selected_run()
        assert run is not None and run.started is not None
        assert run.started.date().isoformat() == "2024-01-01"
        assert _table(screen).row_count == NIGHTS


async def test_bottom_is_the_oldest_night() -> None:
    app = NightsApp(years_history)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _loaded(pilot, app)
        screen.show_history(years_history(NIGHTS))
        await pilot.press("G")
        await pilot.pause()
        run = screen.selected_run()
        assert run is not None and run.id == "night-0000"


async def test_a_filter_toggled_deep_in_the_list_keeps_the_run() -> None:
    """`f` with the cursor on a failed run 2023's: the failures-only list keeps it selected
    (past the first page, that fill is one step, so the cursor never jumps back)."""
    from tui.core.runstate import Outcome

    oldest_failed = next(r for r in years_history(NIGHTS).runs if r.outcome is Outcome.FAILED)
    assert oldest_failed.started is not None
    app = NightsApp(years_history)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _loaded(pilot, app)
        await pilot.press("d", *oldest_failed.started.date().isoformat(), "enter")
        assert (run := screen.selected_run()) is not None and run.id == oldest_failed.id
        await pilot.press("f")
        assert (run := screen.selected_run()) is not None and run.id == oldest_failed.id
        assert _table(screen).cursor_row > FIRST_PAGE  # past the first page indeed
