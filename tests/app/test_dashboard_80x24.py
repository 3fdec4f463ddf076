"""What an operator needs is on screen at 80x24 (issue 10 item 5): a failed run's whole
instruction, and every column of the history table."""

from __future__ import annotations

from pathlib import Path

from app_helpers import JobDir, screen_text, wait_text, wait_until

from tui.app.app import MirrorApp
from tui.app.screens.history import HistoryScreen

RECORDED = Path(__file__).parents[1] / "snapshots" / "logs"


async def test_a_failed_runs_instruction_is_whole_at_80x24(job_dir: JobDir) -> None:
    # A real run stopped by the delete guard (recorded by tests/snapshots/record_logs.py).
    job_dir.job.log_file.write_bytes((RECORDED / "failed.log").read_bytes())
    app = MirrorApp(job_dir.job, job_dir.args, hostname="h")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.caught_up and app.probes > 0, what="settle")
        shown = await wait_text(pilot, "LAST RUN FAILED")
        flat = " ".join(line.strip() for line in shown.splitlines())
        assert "allow them with `space-mirror run --allow-deletes N`" in flat
        assert "[l] details" in flat  # the reason line's last words: nothing cut
        assert "Check credentials" not in flat  # no exit-code advice against the verdict


async def test_the_history_table_shows_errors_and_notes_at_80_columns(job_dir: JobDir) -> None:
    job_dir.job.log_file.write_bytes((RECORDED / "failed.log").read_bytes())
    app = MirrorApp(job_dir.job, job_dir.args, hostname="h")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("h")
        await wait_until(pilot, lambda: isinstance(app.screen, HistoryScreen)
                         and app.screen.history is not None, 10, "the history")
        shown = await wait_text(pilot, "Outcome")
        header = next(line for line in shown.splitlines() if "Outcome" in line)
        assert "Err" in header and "Notes" in header, header
        row = next(line for line in screen_text(pilot).splitlines()
                   if line.lstrip().startswith("failed"))
        # The Notes cell's error class: the guard's limit (rclone's "Fatal error received -
        # not attempting retries" is no cause of its own: it was counted as `other`).
        assert "limit" in row and "other" not in row, row
