"""Keys, help, command palette and small terminals (no run needed: an idle job)."""

from __future__ import annotations

import errno
from datetime import UTC, datetime
from pathlib import Path

import pytest
from app_helpers import JobDir, wait_text, wait_until
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.screen import Screen

from tui.app import keys as K
from tui.app.app import MirrorApp
from tui.app.screens.dashboard import DashboardScreen
from tui.app.screens.history import HistoryScreen
from tui.app.widgets.logview import LogView
from tui.app.widgets.preflight import ProblemPanel
from tui.ops.preflight import CheckResult
from tui.ops.processes import Launched

FIXED_NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


# Help, footer and palette come from the key tables: tests/app/test_keys.py.


def _palette_actions() -> dict[str, str]:
    """The dashboard's palette entries, from its key table: action → title."""
    return {K.action_name(k.action): k.palette_title
            for k in K.palette_entries(DashboardScreen.KEYS, first=True)}


def _idle_app(job_dir: JobDir) -> MirrorApp:
    """An idle dashboard whose Start gets as far as the launcher, which notes the runner's
    argv in `app.tried` and refuses."""
    tried: list[list[str]] = []

    def refuse(argv: list[str]) -> Launched:
        tried.append(argv)
        raise OSError(errno.EPERM, "not in this test")

    app = MirrorApp(job_dir.job, job_dir.args, hostname="h", clock=lambda: FIXED_NOW,
                    preflight=lambda job: [CheckResult("rclone", True, "fine")],
                    launcher=refuse, find_running=lambda job: None)
    app.tried = tried  # type: ignore[attr-defined]
    return app


def _what_shows(app: MirrorApp) -> tuple[object, ...]:
    """What an action can change, as an operator would see it."""
    if app.return_code is not None:
        return ("exited", app.return_code)
    base = app.screen_stack[0]
    log = base.query_one(LogView)
    return (type(app.screen).__name__, log.errors_only, log.hide_files, log.follow,
            base.query_one("#search").display, base.query_one(ProblemPanel).shown,
            tuple(str(n.message) for n in app._notifications),
            tuple(tuple(argv) for argv in app.tried))  # type: ignore[attr-defined]


async def _settled_after(pilot: Pilot[int], app: MirrorApp, before: tuple[object, ...],
                         what: str) -> tuple[object, ...]:
    await wait_until(pilot, lambda: _what_shows(app) != before and app.pending is None,
                     10, what)
    return _what_shows(app)


async def _ready(pilot: Pilot[int], app: MirrorApp) -> tuple[object, ...]:
    await wait_until(pilot, lambda: app.caught_up and app.probes > 0, what="settle")
    app.query_one(LogView).follow = False  # so that Follow has something to change
    await pilot.pause()
    return _what_shows(app)


async def test_each_palette_entry_does_what_its_key_does(job_dir: JobDir) -> None:
    """Through the real palette (ctrl+p, the title, Enter) and through the key, each on a
    fresh idle dashboard: the screen must change, and change the same way."""
    job_dir.job.log_file.write_text(
        "".join(f"2026/11/25 03:00:{i % 60:02d} INFO  : f{i}.bin: Copied (new)\n"
                for i in range(80)))
    entries = _palette_actions()
    probe = _idle_app(job_dir)
    async with probe.run_test(size=(100, 30)):
        offered = {c.title for c in probe.get_system_commands(probe.screen)}
    assert set(entries.values()) == offered
    keys = {K.action_name(k.action): k.keys.split(",")[0] for k in DashboardScreen.KEYS}
    assert len(entries) >= 10
    for action, title in entries.items():
        by_key = _idle_app(job_dir)
        async with by_key.run_test(size=(100, 30)) as pilot:
            before = await _ready(pilot, by_key)
            await pilot.press(keys[action])
            expected = await _settled_after(pilot, by_key, before, f"the {action} key to act")
        by_palette = _idle_app(job_dir)
        async with by_palette.run_test(size=(100, 30)) as pilot:
            assert await _ready(pilot, by_palette) == before
            await pilot.press("ctrl+p")
            await wait_until(pilot, lambda app=by_palette: isinstance(app.screen, CommandPalette),
                             what="the palette")
            palette = by_palette.screen
            await pilot.press(*title)

            def offered_first(palette: Screen[object] = palette, title: str = title) -> bool:
                hits = palette.query_one(CommandList)
                return hits.option_count > 0 and str(
                    hits.get_option_at_index(0).hit.text) == title  # type: ignore[attr-defined]

            await wait_until(pilot, offered_first, what=f"{title!r} offered first")
            await pilot.press("down", "enter")
            got = await _settled_after(pilot, by_palette, before, f"{title!r} to act")
        assert got == expected, (action, title)


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
        await wait_until(pilot, lambda: any("Nothing to abort" in str(n.message)
                                            for n in app._notifications), what="the answer")
        assert app.screen is base  # the key was handled, and asked nothing


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
        base = app.screen
        await pilot.press("a")
        await wait_until(pilot, lambda: any("Nothing to abort" in str(n.message)
                                            for n in app._notifications), what="the answer")
        assert app.screen is base  # no "abort this run?" dialog for a run nobody runs
