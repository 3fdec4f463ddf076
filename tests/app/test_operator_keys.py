"""Keys operators know, the same on every screen (issue 14 item 3): j/k/g/G, / n N with a
3/467 position, Esc clears first then goes back, q goes back and quits only from the first
screen, ? is the current screen's help."""

from __future__ import annotations

from pathlib import Path

from app_helpers import JobDir, screen_text, wait_until
from textual.widgets import DataTable

from tui.app.app import MirrorApp
from tui.app.screens.dialogs import HelpScreen
from tui.app.screens.history import HistoryScreen
from tui.app.widgets.logview import LogView

RECORDED = Path(__file__).parents[1] / "snapshots" / "logs"


def _with_runs(jd: JobDir) -> None:
    # Three real runs (recorded by tests/snapshots/record_logs.py), one after the other.
    jd.job.log_file.write_bytes(b"".join((RECORDED / f"{n}.log").read_bytes()
                                         for n in ("idle", "aborted", "failed")))


async def test_search_position_and_escape_order(job_dir: JobDir) -> None:
    _with_runs(job_dir)
    app = MirrorApp(job_dir.job, job_dir.args, hostname="h")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.caught_up, what="settle")
        log = app.query_one(LogView)
        await wait_until(pilot, lambda: log.line_count > 5, what="lines")
        await pilot.press("slash", *"error", "enter")
        count = log.match_count()
        assert count >= 3
        first = str(log.border_title)
        assert "/error: " in first and f"/{count}" in first
        await pilot.press("n")
        assert log.match_position() != first.rsplit(": ", 1)[1]
        await pilot.press("N")
        assert str(log.border_title) == first
        await pilot.press("e")
        assert log.errors_only
        dashboard = app.screen
        await pilot.press("escape")  # the search goes first …
        assert log.search_term == "" and log.errors_only and app.screen is dashboard
        await pilot.press("escape")  # … then the filter …
        assert not log.errors_only
        await pilot.press("escape")  # … and on the first screen Esc never quits
        await pilot.pause()
        assert app.is_running and app.screen is dashboard


async def test_history_keys_q_goes_back_and_help_is_the_screens(job_dir: JobDir) -> None:
    _with_runs(job_dir)
    app = MirrorApp(job_dir.job, job_dir.args, hostname="h")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.caught_up, what="settle")
        dashboard = app.screen
        await pilot.press("h")
        await wait_until(pilot, lambda: isinstance(app.screen, HistoryScreen)
                         and app.screen.loaded, what="history")
        history = app.screen
        table = history.query_one(DataTable)
        assert table.row_count >= 3 and table.cursor_row == 0
        await pilot.press("j")
        assert table.cursor_row == 1
        await pilot.press("G")
        assert table.cursor_row == table.row_count - 1
        await pilot.press("g")
        assert table.cursor_row == 0
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        shown = screen_text(pilot)
        assert "the selected run's detail" in shown and "start a sync" not in shown
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is history, what="help closed")
        await pilot.press("q")  # back, not quit
        await wait_until(pilot, lambda: app.screen is dashboard, what="back to the dashboard")
        assert app.is_running
        await pilot.press("q")  # the first screen: quits (nothing is running)
        await wait_until(pilot, lambda: not app.is_running, what="quit")
    assert app.return_code == 0
