"""Issue 22, small untruths on the dashboard, from real runs: the first log line said
`-- waiting for the log file to appear --` long after the file had appeared."""

from __future__ import annotations

from app_helpers import JobDir, cli_run, screen_text, wait_text, wait_until

from tui.app.app import MirrorApp
from tui.app.widgets.logview import LogView


async def test_waiting_note_goes_once_the_log_appears(job_dir: JobDir) -> None:
    assert not job_dir.job.log_file.exists()
    app = MirrorApp(job_dir.job, job_dir.args, hostname="h")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_text(pilot, "waiting for the log file to appear")
        proc = cli_run(job_dir)  # the runner creates the log
        try:
            await wait_until(pilot, lambda: any(
                "Starting Space Mirror" in t for t in app.query_one(LogView).visible_text()),
                timeout=30, what="the run's start marker in the log view")
            lines = app.query_one(LogView).visible_text()
            assert not any("waiting for the log file" in t for t in lines), lines[:3]
            assert "waiting for the log file" not in screen_text(pilot)
        finally:
            assert proc.wait(60) == 0
