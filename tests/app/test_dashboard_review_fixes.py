"""What a review of the dashboard found, each pinned by a test: markup in notifications,
a sync launched after the operator quit, dashboard keys firing under other screens,
credentials and control characters on screen, and an abort aimed at pid 0."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from app_helpers import JobDir, wait_text, wait_until
from textual import work

from tui.app.app import MirrorApp
from tui.app.screens.dashboard import DashboardScreen
from tui.app.screens.history import HistoryScreen
from tui.app.widgets.logview import LogView
from tui.config import Job
from tui.core.stats import Transfer
from tui.ops import processes
from tui.ops.preflight import CheckResult
from tui.ops.processes import Launched, RunningSync


class _RefuseLaunch:
    """A launcher that records every call: a raise inside the launch worker never reached
    the test, so the test asserts `calls == []` afterwards."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, argv: list[str]) -> Launched:
        self.calls.append(argv)
        raise AssertionError(f"nothing may be launched here: {argv}")


def _recording(ran: list[str], name: str, action: Callable[..., None]) -> Callable[..., None]:
    def recorded(*args: object) -> None:
        ran.append(name)
        action(*args)

    return recorded


async def test_searching_markup_like_text_does_not_crash(job_dir: JobDir) -> None:
    app = MirrorApp(job_dir.job, job_dir.args, hostname="h")
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.press("slash")
        await pilot.press(*"x[/bold].txt", "enter")
        await wait_until(pilot, lambda: any("not found" in n.message
                                            for n in app._notifications), 5, "the answer")
        # The toast is drawn: this is where markup used to explode.
        await wait_text(pilot, "not found: x[/bold].txt")
        assert app.is_running and app.return_code is None


async def test_quitting_during_the_preflight_starts_nothing(job_dir: JobDir) -> None:
    release = threading.Event()
    checking: list[threading.Thread] = []
    launched: list[list[str]] = []

    returned = threading.Event()

    def slow_checks(job: object) -> list[CheckResult]:
        checking.append(threading.current_thread())
        release.wait(10)
        returned.set()
        return [CheckResult("rclone", True, "fine")]

    def launcher(argv: list[str]) -> Launched:
        launched.append(argv)
        raise OSError("not in this test")

    decided = threading.Event()

    class WatchedScreen(DashboardScreen):
        """The dashboard, telling the test when its launch worker has returned."""

        @work(thread=True, group="launch", exclusive=True, exit_on_error=False)
        def _check_and_launch(self, dry_run: bool) -> None:
            try:
                DashboardScreen._check_and_launch.__wrapped__(  # type: ignore[attr-defined]
                    self, dry_run)
            finally:
                decided.set()

    class Watched(MirrorApp):
        def dashboard_for(self, job: Job, job_args: list[str]) -> DashboardScreen:
            return WatchedScreen(job, job_args, self.system, clock=self.clock,
                                 hostname=self.hostname)

    app = Watched(job_dir.job, job_dir.args, hostname="h", preflight=slow_checks,
                  launcher=launcher)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("s")
        await wait_until(pilot, lambda: bool(checking), 5, "the checks to start")
        await pilot.press("q")  # nothing is running yet: the dashboard just closes
        await pilot.pause()
    assert app._stop.is_set()  # unmounted: the operator has gone
    release.set()  # the checks pass after the operator has gone …
    assert returned.wait(10)
    # … and the worker decides on its own thread, right after. Wait for the worker to
    # return: by then it has launched, or never will.
    assert decided.wait(10), "the launch worker never returned"
    assert launched == []


async def test_dashboard_keys_do_nothing_under_the_history_screen(job_dir: JobDir) -> None:
    refuse = _RefuseLaunch()
    app = MirrorApp(job_dir.job, job_dir.args, hostname="h", launcher=refuse,
                    preflight=lambda job: [CheckResult("rclone", True, "fine")])
    async with app.run_test(size=(100, 30)) as pilot:
        base = app.screen
        ran: list[str] = []
        for name in ("start", "dry_run", "plan", "toggle_errors", "toggle_files"):
            # The dashboard's actions are its screen's.
            setattr(base, f"action_{name}", _recording(ran, name, getattr(base, f"action_{name}")))
        await pilot.press("h")
        await wait_until(pilot, lambda: isinstance(app.screen, HistoryScreen), 5, "history")
        # Then a key the history screen does answer (Esc: back): keys are handled in order,
        # so once it has acted, s d p e f have been handled too. History's own `d` (jump to
        # a date) opens its box and takes "pef": the first Esc closes the box, the second
        # goes back.
        await pilot.press("s", "d", "p", "e", "f", "escape", "escape")
        await wait_until(pilot, lambda: app.screen is base, 5, "back to the dashboard")
        assert ran == []
        assert app.pending is None
        log = app.query_one(LogView)
        assert log.errors_only is False and log.hide_files is False
    assert refuse.calls == []


async def test_inline_credentials_are_masked_on_screen(job_dir: JobDir) -> None:
    job = replace(job_dir.job,
                  destination=":s3,access_key_id=CANARY-KID-1,secret_access_key=CANARY-SK-2:b")
    app = MirrorApp(job, job_dir.args, hostname="h")
    async with app.run_test(size=(160, 30)) as pilot:
        shown = await wait_text(pilot, "secret_access_key=***")
        picture = app.export_screenshot()
    for canary in ("CANARY-KID-1", "CANARY-SK-2"):
        assert canary not in shown and canary not in picture


async def test_control_characters_in_flight_names_are_replaced(job_dir: JobDir) -> None:
    from tui.app.widgets.inflight import InFlight

    app = MirrorApp(job_dir.job, job_dir.args, hostname="h")
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        name = "evil\x1b]0;pwned\x07name.bin"
        rendered = app.query_one(InFlight)
        rendered.show((Transfer(name, 10, 5, 50, 1.0, None),))
        text = rendered.render().plain
        assert "pwned" in text and "\x1b" not in text and "\x07" not in text


def test_an_unreadable_lock_record_is_never_signalled_as_pid_0() -> None:
    running = RunningSync("runner", 0, None, "?", "?", "?", "cli")
    problem = processes.request_abort(running)
    assert problem is not None and "cannot tell" in problem


def test_a_plan_holder_is_not_the_abort_target(tmp_path: Path) -> None:
    from tui.config import Job
    from tui.ops import lock

    job = Job(name="t", lock_file=tmp_path / "lock")
    record = lock.LockRecord(pid=1, run_id="plan-20261125T000000-abcd", job="t",
                             mode="dry-run", log="x", started="x")
    held = lock.try_acquire(job.lock_path, record)
    assert isinstance(held, lock.HeldLock)
    try:
        found = processes.find_running(job)
        assert found is not None and found.pid == 0  # no rclone yet: nothing to signal
        held.update(replace(record, rclone_pid=424242))
        found = processes.find_running(job)
        assert found is not None and found.pid == 424242
    finally:
        held.release()
