"""A launch that fails in any way returns the dashboard to idle and says why (issue 10
item 6): before, any exception but OSError left "PRE-FLIGHT CHECKS" on screen for good."""

from __future__ import annotations

from app_helpers import JobDir, wait_text, wait_until

from tui.app.app import MirrorApp
from tui.app.widgets.preflight import ProblemPanel
from tui.ops.preflight import CheckResult
from tui.ops.processes import Launched


def _passing(job: object) -> list[CheckResult]:
    return [CheckResult("rclone", True, "fine")]


async def test_a_launcher_that_raises_returns_the_dashboard_to_idle(job_dir: JobDir) -> None:
    calls: list[list[str]] = []

    def broken_launcher(argv: list[str]) -> Launched:
        calls.append(argv)
        raise RuntimeError("the runner's argv could not be built")

    app = MirrorApp(job_dir.job, job_dir.args, hostname="h", preflight=_passing,
                    launcher=broken_launcher)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.caught_up and app.probes > 0, what="settle")
        await pilot.press("s")
        await wait_until(pilot, lambda: bool(calls), 10, "the launch attempt")
        await wait_until(pilot, lambda: app.pending is None, 10, "the dashboard to be idle")
        assert app.query_one(ProblemPanel).shown
        await wait_text(pilot, "Nothing was started", "RuntimeError",
                        "the runner's argv could not be built", "IDLE")
        # Idle again means a second try is possible: the key is not swallowed by "busy".
        await pilot.press("d")
        await wait_until(pilot, lambda: len(calls) == 2, 10, "the second attempt")
        await wait_until(pilot, lambda: app.pending is None, 10, "idle again")


async def test_an_oserror_still_reads_as_the_system_said(job_dir: JobDir) -> None:
    def no_exec(argv: list[str]) -> Launched:
        raise PermissionError(13, "Permission denied")

    app = MirrorApp(job_dir.job, job_dir.args, hostname="h", preflight=_passing,
                    launcher=no_exec)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.caught_up and app.probes > 0, what="settle")
        await pilot.press("s")
        await wait_text(pilot, "could not start the runner: Permission denied")
        assert app.pending is None
