"""Pilot tests of the history screen and a run's detail."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from textual.widgets import DataTable, Static

from tests.history.screens_app import FIXTURE, HistoryApp
from tui.app.screens.history import HistoryScreen
from tui.app.screens.run_detail import RunDetailScreen
from tui.app.widgets.logview import LogView

DST = "/tmp/space-mirror-fixture/runner-dst"
NOT_A_DIR = f"mkdir {DST}/c: not a directory"
RUNNER_IO_LINES = [
    "▌ Starting Space Mirror... run=20261125T143055-6740 job=runner-io mode=sync pid=14596"
    " by=cli max_delete=2",
    "INFO   a: Set directory modification time (using SetModTime)",
    f"INFO   Local file system at {DST}: Making map for --track-renames",
    f"INFO   Local file system at {DST}: Finished making map for --track-renames",
    f"ERROR  c/new.txt: Failed to copy: {NOT_A_DIR}",
    f"INFO   c/new.txt.53d18b8b.partial: Failed to remove failed partial copy: lstat"
    f" {DST}/c/new.txt.53d18b8b.partial: not a directory",
    f"ERROR  Local file system at {DST}: not deleting files as there were IO errors",
    "INFO   c: Set directory modification time (using DirSetModTime)",
    f"ERROR  Local file system at {DST}: not deleting directories as there were IO errors",
    f"ERROR  Attempt 1/1 failed with 1 errors and: {NOT_A_DIR}",
    f"NOTICE Failed to sync: {NOT_A_DIR}",
    "▌ Space Mirror FAILED with exit code 1 run=20261125T143055-6740 reason=\"Error not"
    f" otherwise categorised. Last error: Attempt 1/1 failed with 1 errors and: {NOT_A_DIR}\""
    " bytes=0 transfers=0 checks=3 deletes=0 renames=0 errors=1 elapsed=0.0",
]


def _texts(logview: LogView) -> list[str]:
    """The lines shown, without their HH:MM:SS (all 14:30:55 here)."""
    return [t.split(" ", 1)[1] for t in logview.visible_text()]


async def _shown(pilot: object, app: HistoryApp) -> None:
    """The screen's worker is done and its message shown (workers post messages)."""
    await app.workers.wait_for_complete()
    deadline = time.monotonic() + 10
    while not getattr(app.screen, "loaded", False):
        assert time.monotonic() < deadline, "the screen never showed what its worker read"
        await pilot.pause(0.02)  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]


async def _loaded(pilot: object, app: HistoryApp) -> HistoryScreen:
    await _shown(pilot, app)
    screen = app.screen
    assert isinstance(screen, HistoryScreen)
    return screen


async def test_history_lists_runs_newest_first() -> None:
    app = HistoryApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _loaded(pilot, app)
        table = screen.query_one("#history-table", DataTable)
        assert table.row_count == 14
        first = [str(c) for c in table.get_row_at(0)]
        last = [str(c) for c in table.get_row_at(13)]
        assert first[0] == "incomplete"  # the newest: the runner killed with SIGKILL
        assert last[0] == "success"  # the oldest: the wrapper's first sync
        status = str(screen.query_one("#history-status", Static).render())
        assert "14 runs" in status


async def test_first_paint_says_reading(tmp_path: Path) -> None:
    """The scan runs in a worker: before it ends, the screen says so."""
    import threading

    gate = threading.Event()
    app = HistoryApp()

    class Slow(HistoryScreen):
        pass

    async with app.run_test(size=(80, 24)) as pilot:
        from tests.history.screens_app import fixture_loader

        def slow_loader():  # type: ignore[no-untyped-def]
            gate.wait(10)
            return fixture_loader()

        screen = Slow(app.job, loader=slow_loader)
        await app.push_screen(screen)
        await pilot.pause()
        assert "reading history" in str(screen.query_one("#history-status", Static).render())
        gate.set()
        await _loaded(pilot, app)
        assert screen.query_one("#history-table", DataTable).row_count == 14


async def test_enter_opens_detail_and_escape_returns(tmp_path: Path) -> None:
    log = tmp_path / "space-mirror.log"
    shutil.copyfile(FIXTURE, log)
    app = HistoryApp(log)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _loaded(pilot, app)
        # Row 3 (newest first) is the runner's IO-error run.
        for _ in range(3):
            await pilot.press("down")
        await pilot.press("enter")
        await _shown(pilot, app)
        await pilot.pause()
        detail = app.screen
        assert isinstance(detail, RunDetailScreen)
        run = detail.run_record
        assert run.exit_code == 1 and run.deletes_skipped
        summary = str(detail.query_one("#detail-summary", Static).render())
        assert "Exit 1" in summary and "skipped every delete" in summary
        # Why, which files, what to do: first, in the summary (issue 15).
        assert "io ×1" in summary and "Files (1): c/new.txt" in summary
        # … and the remedy, which needs the job: History passes it on.
        assert "    → " in summary and "needs the job" not in summary, summary
        logview = detail.query_one(LogView)
        # The run's 13 lines in tests/fixtures/history/mixed.log (129-141), less its one
        # stats line, shown by the progress figures instead.
        assert _texts(logview) == RUNNER_IO_LINES
        await pilot.press("e")
        assert _texts(logview) == [RUNNER_IO_LINES[i] for i in (0, 4, 6, 8, 9, 11)]
        await pilot.press("e")
        await pilot.press("f")
        # Hidden: the INFO lines with an object. That includes the two "Local file
        # system at …" lines (objectType *local.Fs), which are about no single file.
        assert _texts(logview) == [RUNNER_IO_LINES[i] for i in (0, 4, 6, 8, 9, 10, 11)]
        detail.report_dir = tmp_path / "a-rather-long-folder-name-for-the-reports" / "of-reports"
        await pilot.press("r")
        assert detail.report_path is not None
        # Issue 22: the toast's path is cut only after a `/`, never mid-name.
        # The toast wraps its text at its width (at most 60 cells and half the screen, less
        # its padding): the path comes in lines that fit it, each cut after a `/`.
        message = [str(n.message) for n in app._notifications if "report" in str(n.message)]
        lines = message[-1].split("\n")[1:]
        assert "".join(lines) == str(detail.report_path), lines
        assert all(ln.endswith("/") for ln in lines[:-1]), lines
        assert all(len(ln) <= min(60, 120 // 2) - 4 for ln in lines), lines
        text = detail.report_path.read_text()
        assert f"space-mirror run {run.id}" in text
        assert "not deleting files as there were IO errors" in text
        await pilot.press("escape")  # Esc clears the filter first …
        await pilot.pause()
        assert app.screen is detail and not logview.hide_files
        await pilot.press("escape")  # … then goes back
        await pilot.pause()
        assert app.screen is screen


async def test_dashboard_key_h_opens_history(tmp_path: Path) -> None:
    """The dashboard pushes HistoryScreen(job) on `h`; it reads the job's own log."""
    from tui.app.app import MirrorApp
    from tui.config import Job

    log = tmp_path / "space-mirror.log"
    shutil.copyfile(FIXTURE, log)
    job = Job(log_file=log, lock_file=tmp_path / "lock", env_file=None)

    launches: list[list[str]] = []

    def never_launch(argv: list[str]) -> object:
        launches.append(argv)  # recorded and asserted below: a raise here would be swallowed
        raise AssertionError("must not start a run")

    app = MirrorApp(job, [], find_running=lambda _job: None, preflight=lambda _job: [],
                    launcher=never_launch, sample_interval=3600.0)  # type: ignore[arg-type]
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("h")
        import time

        deadline = time.monotonic() + 10
        while not (isinstance(app.screen, HistoryScreen) and app.screen.history is not None):
            assert time.monotonic() < deadline, "the history did not load"
            await pilot.pause(0.02)
        assert app.screen.query_one("#history-table", DataTable).row_count == 14
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HistoryScreen)
    assert launches == []
