"""Keys, help, command palette and small terminals (no run needed: an idle job)."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_helpers import JobDir, wait_text, wait_until

from tui.app.app import MirrorApp
from tui.app.screens.history import HistoryScreen
from tui.app.widgets.logview import LogView

# Help and palette: derived from the key tables in tests/app/test_keys.py.


async def test_history_key_opens_a_screen(job_dir: JobDir) -> None:
    app = MirrorApp(job_dir.job, job_dir.args, hostname="h")
    async with app.run_test(size=(100, 30)) as pilot:
        base = app.screen
        await pilot.press("h")
        await wait_until(pilot, lambda: app.screen is not base, what="history")
        assert isinstance(app.screen, HistoryScreen)
        await pilot.press("h")
        await wait_until(pilot, lambda: app.screen is base, what="back to the dashboard")


async def test_abort_with_nothing_running_says_so(job_dir: JobDir) -> None:
    app = MirrorApp(job_dir.job, job_dir.args, hostname="h")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.caught_up and app.probes > 0, what="settle")
        base = app.screen
        await pilot.press("a")
        await pilot.pause()
        assert app.screen is base
        assert any("Nothing to abort" in str(n.message) for n in app._notifications)


async def test_search_key_and_filters(job_dir: JobDir) -> None:
    job_dir.job.log_file.write_text(
        "2026/11/25 03:00:01 INFO  : a/one.bin: Copied (new)\n"
        "2026/11/25 03:00:02 ERROR : a/two.bin: Failed to copy: permission denied\n"
        "2026/11/25 03:00:03 INFO  : a/three.bin: Copied (new)\n")
    app = MirrorApp(job_dir.job, job_dir.args, hostname="h")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.caught_up, what="settle")
        log = app.query_one(LogView)
        await wait_until(pilot, lambda: log.line_count == 3, what="lines")
        await pilot.press("e")
        assert log.errors_only and log.line_count == 1
        await pilot.press("e", "f")
        assert log.hide_files and not log.errors_only
        assert log.line_count == 1  # the error stays: errors are never hidden as per-file
        await pilot.press("f", "slash")
        await pilot.press(*"three", "enter")
        assert log.search_term == "three"
        assert log.current_match == 2
        assert "three: 1/1" in str(log.border_title)  # the position, as less shows it
        await pilot.press("end")
        assert log.follow


async def test_small_terminals(job_dir: JobDir) -> None:
    app = MirrorApp(job_dir.job, job_dir.args, hostname="h")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.caught_up and app.probes > 0, what="settle")
        assert app.query_one("#deck").display
        await wait_text(pilot, "in flight")
        await pilot.resize_terminal(60, 20)
        await pilot.pause()
        text = await wait_text(pilot, "IDLE")
        assert "in flight" not in text
        await pilot.resize_terminal(40, 10)
        await pilot.pause()
        # Idle: the footer offers what can be done now (no abort), in full words.
        await wait_text(pilot, "IDLE", "s Start", "? Help", "q Quit")


async def test_no_color_keeps_the_meaning(job_dir: JobDir, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = MirrorApp(job_dir.job, job_dir.args, hostname="h")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.caught_up and app.probes > 0, what="settle")
        assert app.no_color
        # The state is a word, not a colour; the empty bar is a glyph, not a background.
        await wait_text(pilot, "IDLE · NO RUN IN THE LOG", "░")


async def test_a_run_without_end_and_without_process_is_interrupted(job_dir: JobDir) -> None:
    # A real log cut mid-run (the runner was killed with SIGKILL, say): nothing holds the lock.
    recorded = Path(__file__).parents[1] / "snapshots" / "logs" / "running.log"
    job_dir.job.log_file.write_bytes(recorded.read_bytes())
    app = MirrorApp(job_dir.job, job_dir.args, hostname="h", sample_interval=0.1)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.caught_up and app.probes >= 3, what="probes")
        assert app.run_state.running  # the log alone says running …
        await wait_text(pilot, "LAST RUN INTERRUPTED")  # … but nothing runs
        await pilot.press("a")
        await pilot.pause()
        assert any("Nothing to abort" in str(n.message) for n in app._notifications)
