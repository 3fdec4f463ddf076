"""Pilot tests of the history screen's navigation (issue 15): the failures filter, `/`
search with n/N and its position, the jump to a date, dry runs at every width and the
log-scale trend; and that the screen's filter and `history --outcome failed` agree."""

from __future__ import annotations

import json
import subprocess
import sys

from textual.widgets import DataTable, Input, Sparkline, Static

from tests.history.screens_app import FIXTURE, HistoryApp, NightsApp
from tests.history.test_history_screens import _loaded
from tui.app.screens.history import HistoryScreen

REPO = FIXTURE.parents[3]
FAILED_IDS = [  # newest first: the fixture's six failed runs (runner, then legacy wrapper)
    "20261125T143055-bf90", "20261125T143055-6740", "20261125T143054-bde9",
    "legacy-20261125T143053Z-5", "legacy-20261125T143053Z-4", "legacy-20261125T143053Z-3"]


def _ids(screen: HistoryScreen) -> list[str]:
    table = screen.query_one("#history-table", DataTable)
    return [str(table.coordinate_to_cell_key((i, 0)).row_key.value)
            for i in range(table.row_count)]


def _status(screen: HistoryScreen) -> str:
    return str(screen.query_one("#history-status", Static).render())


def _cursor_id(screen: HistoryScreen) -> str:
    run = screen.selected_run()
    assert run is not None
    return run.id


async def test_failures_filter_then_escape_clears_it() -> None:
    app = HistoryApp()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _loaded(pilot, app)
        await pilot.press("f")
        assert _ids(screen) == FAILED_IDS
        assert "failures only: 6 of 14 runs" in _status(screen)
        await pilot.press("escape")  # Esc clears the filter first, staying on the screen
        assert app.screen is screen
        assert len(_ids(screen)) == 14 and "failures only" not in _status(screen)


async def test_screen_failures_equal_cli_outcome_failed() -> None:
    """The screen's `f` and `space-mirror history --outcome failed` are the same filter."""
    cli = subprocess.run([sys.executable, "-m", "tui", "--log", str(FIXTURE), "history",
                          "--outcome", "failed", "--json"], capture_output=True, text=True,
                         cwd=REPO, timeout=60, check=True)
    cli_ids = [r["id"] for r in json.loads(cli.stdout)["runs"]]
    app = HistoryApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _loaded(pilot, app)
        await pilot.press("f")
        assert sorted(_ids(screen)) == sorted(cli_ids) and len(cli_ids) == 6


async def test_search_moves_between_matches_with_position() -> None:
    app = HistoryApp()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _loaded(pilot, app)
        await pilot.press("slash")
        assert screen.query_one("#search", Input).has_focus
        await pilot.press(*"not a directory", "enter")
        # The runner's and the wrapper's IO-error runs (failed file c/new.txt, `not a
        # directory`) and the wrapper's missing-source run, whose example says so too.
        assert _cursor_id(screen) == "20261125T143055-6740"
        assert "/not a directory: 1/3" in _status(screen)
        await pilot.press("n")
        assert _cursor_id(screen) == "legacy-20261125T143053Z-4"
        assert "2/3" in _status(screen)
        await pilot.press("n")
        assert _cursor_id(screen) == "legacy-20261125T143053Z-3"
        await pilot.press("n")  # wraps, as less does
        assert _cursor_id(screen) == "20261125T143055-6740"
        await pilot.press("N")
        assert _cursor_id(screen) == "legacy-20261125T143053Z-3" and "3/3" in _status(screen)
        await pilot.press("k")  # onto the wrapper's other IO-error run: still a match
        assert "2/3" in _status(screen)
        await pilot.press("k")
        assert "3 found" in _status(screen)  # off a match: a count, no position
        await pilot.press("escape")  # the search goes first
        assert app.screen is screen and "/not a directory" not in _status(screen)


async def test_jump_to_a_date() -> None:
    app = NightsApp()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _loaded(pilot, app)
        await pilot.press("d", *"2026-11-19", "enter")
        run = screen.selected_run()
        assert run is not None and run.started is not None
        assert run.started.isoformat() == "2026-11-19T03:00:00+00:00"
        await pilot.press("d", *"2027-01-01", "enter")  # later than every run: stays put
        assert screen.selected_run() is run


async def test_dry_run_is_marked_at_80_and_120_columns() -> None:
    for size, cell in (((80, 24), "dry success"), ((120, 40), "success (dry run)")):
        app = NightsApp()
        async with app.run_test(size=size) as pilot:
            screen = await _loaded(pilot, app)
            table = screen.query_one("#history-table", DataTable)
            rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
            dry = [r for r in rows if r[1] == "2026-11-20 03:00"]  # the dry run's night
            assert len(dry) == 1 and dry[0][0] == cell


async def test_one_huge_night_does_not_flatten_the_others() -> None:
    """883 GiB among nights of 3-42 MiB: on a log scale the small nights are not all the
    lowest block, and the bar is labelled with its range."""
    app = NightsApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _loaded(pilot, app)
        bar = screen.query_one("#bytes-bar", Sparkline)
        drawn = bar.render_line(0).text.strip()
        assert len(drawn) >= 14 and "█" in drawn
        small = [c for c in drawn if c != "█"]
        assert any(c != "▁" for c in small), drawn
        label = str(screen.query_one("#bytes-bar-range", Static).render())
        assert "883" in label and "0 B" in label


async def test_tiny_terminal_degrades() -> None:
    """40x12: the keys still work and nothing crashes (the bars and columns just shrink)."""
    app = NightsApp()
    async with app.run_test(size=(40, 12)) as pilot:
        screen = await _loaded(pilot, app)
        await pilot.press("f", "slash", *"network", "enter")
        assert "failures only" in _status(screen) and "/network: 1/2" in _status(screen)
        await pilot.press("d", *"2026-11-16", "enter")
        assert _cursor_id(screen) == "legacy-20261125T143053Z-5"
        await pilot.resize_terminal(120, 40)  # wider: the Outcome column is rebuilt
        await pilot.pause()
        assert _cursor_id(screen) == "legacy-20261125T143053Z-5"
