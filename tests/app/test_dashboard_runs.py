"""The dashboard against real runs of the real runner and rclone (local → local)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from app_helpers import (
    JobDir,
    cli_run,
    screen_text,
    stop_runner,
    wait_sync,
    wait_text,
    wait_until,
)

from tui.app.app import MirrorApp
from tui.app.screens.dialogs import AbortScreen, QuitScreen
from tui.app.widgets.logview import LogView
from tui.app.widgets.preflight import ProblemPanel
from tui.core.runstate import Outcome, Phase
from tui.ops import lock, processes

SIZE = (100, 30)


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} \
        if root.exists() else set()


async def test_start_reaches_true_totals(job_dir: JobDir) -> None:
    app = MirrorApp(job_dir.job, job_dir.args, hostname="testhost")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.caught_up and app.probes > 0, what="settle")
        await wait_text(pilot, "IDLE")
        await pilot.press("s")
        await wait_until(pilot, lambda: app.run_state.phase is Phase.ENDED,
                         what="the run to end")
        st = app.run_state
        assert st.outcome is Outcome.SUCCESS
        assert st.stats is not None
        # 8 files in a/ and the markup-named one: the true totals of the tree.
        assert st.transfers == st.stats.total_transfers == 9
        assert st.bytes == st.stats.total_bytes == 8 * 40_000 + len("plain\n")
        assert app.started_by == "dashboard"
        await wait_text(pilot, "LAST RUN SUCCEEDED", "files 9/9", "by the dashboard")
        log_lines = app.query_one(LogView).visible_text()
        assert any("b/x[/bold].txt: Copied (new)" in line for line in log_lines)
    assert _tree(job_dir.dst) == _tree(job_dir.src)


async def test_dry_run_changes_nothing(job_dir: JobDir) -> None:
    app = MirrorApp(job_dir.job, job_dir.args, hostname="testhost")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.caught_up and app.probes > 0, what="settle")
        await pilot.press("d")
        await wait_until(pilot, lambda: app.run_state.phase is Phase.ENDED,
                         what="the dry run to end")
        assert app.run_state.dry_run
        assert app.run_state.outcome is Outcome.SUCCESS
        await wait_text(pilot, "LAST RUN SUCCEEDED (dry run)")
        assert any("Skipped copy as --dry-run is set" in line
                   for line in app.query_one(LogView).visible_text())
    assert _tree(job_dir.dst) == set()


async def test_abort_shows_aborted_and_reason(slow_job_dir: JobDir) -> None:
    jd = slow_job_dir
    app = MirrorApp(jd.job, jd.args, hostname="testhost")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.caught_up and app.probes > 0, what="settle")
        await pilot.press("s")
        await wait_until(pilot, lambda: app.run_state.running and app.run_state.stats is not None
                         and app.running is not None, what="the run to show progress")
        await wait_text(pilot, "RUNNING")
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, AbortScreen), what="the dialog")
        await wait_text(pilot, "files already copied stay copied")
        await pilot.press("y")
        await wait_until(pilot, lambda: app.run_state.phase is Phase.ENDED, what="the abort")
        st = app.run_state
        assert st.outcome is Outcome.ABORTED
        assert st.exit_code == 143
        assert st.reason is not None and "aborted by operator" in st.reason
        await wait_text(pilot, "LAST RUN ABORTED", "exit 143", "aborted by operator")
    assert not [p for p in jd.dst.rglob("*.partial")]


async def test_attach_to_a_cli_run(slow_job_dir: JobDir) -> None:
    jd = slow_job_dir
    proc = cli_run(jd)
    # Open the dashboard once the run is well under way: it must replay it from its start.
    wait_sync(lambda: jd.job.log_file.exists() and b"Copied (new)" in jd.job.log_file.read_bytes(),
              what="the CLI run to copy a file")
    app = MirrorApp(jd.job, jd.args, hostname="testhost")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.run_state.running and app.run_state.bytes > 0
                         and app.vitals is not None, what="progress of the CLI run")
        assert app.started_by == "cli"
        assert app.running is not None and app.running.pid == proc.pid
        await wait_text(pilot, "RUNNING", "by the CLI", f"rclone pid {app.running.rclone_pid}")
        # It replayed the run from its start marker.
        assert "Starting Space Mirror" in app.query_one(LogView).visible_text()[0]
        await wait_until(pilot, lambda: app.run_state.phase is Phase.ENDED, timeout=30,
                         what="the CLI run to end")
        assert app.run_state.outcome is Outcome.SUCCESS
        assert app.run_state.transfers == 7
    assert proc.wait(10) == 0


async def test_quit_leaving_the_run_then_reattach(slow_job_dir: JobDir) -> None:
    jd = slow_job_dir
    first = MirrorApp(jd.job, jd.args, hostname="testhost")
    async with first.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: first.caught_up and first.probes > 0, what="settle")
        await pilot.press("s")
        await wait_until(pilot, lambda: first.run_state.running and first.running is not None,
                         what="the run to start")
        run_id = first.run_state.run_id
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(first.screen, QuitScreen), what="the dialog")
        await wait_until(pilot, lambda: "dashboard re-attaches" in screen_text(pilot),
                         what="the dialog's text")
        await pilot.press("l")
        await wait_until(pilot, lambda: first.return_code is not None, what="the app to exit")
    # The sync goes on without the dashboard.
    holder = lock.read_holder(jd.job.lock_path)
    assert holder is not None and holder.run_id == run_id
    second = MirrorApp(jd.job, jd.args, hostname="testhost")
    async with second.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: second.run_state.run_id == run_id
                         and second.run_state.running and second.running is not None,
                         what="re-attaching")
        assert second.started_by == "dashboard"
        await wait_text(pilot, "by the dashboard")
        await pilot.press("a", "y")
        await wait_until(pilot, lambda: second.run_state.phase is Phase.ENDED, what="abort")
        assert second.run_state.outcome is Outcome.ABORTED


async def test_failed_preflight_starts_nothing(job_dir: JobDir) -> None:
    for f in job_dir.src.rglob("*"):
        if f.is_file():
            f.unlink()
    for d in sorted(job_dir.src.rglob("*"), reverse=True):
        d.rmdir()
    app = MirrorApp(job_dir.job, job_dir.args, hostname="testhost")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.caught_up and app.probes > 0, what="settle")
        await pilot.press("s")
        panel = app.query_one(ProblemPanel)
        await wait_until(pilot, lambda: panel.shown, what="the pre-flight panel")
        await wait_text(pilot, "Pre-flight failed")
        shown = str(panel.render())  # the panel's whole text, however it wraps
        assert "is empty: a sync would delete the whole mirror" in shown
        assert "fix: mount the source file system" in shown
        assert app.pending is None
        await pilot.press("escape")
        assert not panel.shown
    assert not job_dir.job.log_file.exists()  # the runner never ran
    assert lock.read_holder(job_dir.job.lock_path) is None


async def test_runner_refusal_is_shown(job_dir: JobDir) -> None:
    # Another process holds the job's lock; our pre-flight is skipped so that the runner
    # itself must refuse (exit 75).
    # Started now: a lock older than the job's maximum duration fails with 69 instead.
    record = lock.LockRecord(pid=1, run_id="other", job="t", mode="sync", log="-",
                             started=datetime.now(UTC).isoformat(timespec="seconds"))
    held = lock.try_acquire(job_dir.job.lock_path, record)
    assert isinstance(held, lock.HeldLock)
    try:
        app = MirrorApp(job_dir.job, job_dir.args, hostname="testhost",
                        preflight=lambda _job: [], find_running=lambda _job: None)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.caught_up and app.probes > 0, what="settle")
            await pilot.press("s")
            panel = app.query_one(ProblemPanel)
            await wait_until(pilot, lambda: panel.shown, what="the refusal")
            await wait_text(pilot, "refused to start (exit 75)")
            assert "already running" in str(panel.render())
            assert app.last_exit is not None and app.last_exit[0] == 75
    finally:
        held.release()
    assert _tree(job_dir.dst) == set()


def test_stop_runner_helper_is_quiet_when_idle(job_dir: JobDir) -> None:
    stop_runner(job_dir.job)
    assert processes.find_running(job_dir.job) is None


async def test_attach_to_a_legacy_wrapper_run(slow_job_dir: JobDir) -> None:
    jd = slow_job_dir
    wrapper = Path(__file__).parents[1] / "fixtures" / "legacy_wrapper.sh"
    env = {**os.environ, "SOURCE": jd.job.source, "DEST": jd.job.destination,
           "LOG_FILE": str(jd.job.log_file), "RCLONE": str(Path(sys.executable).parent / "rclone"),
           "B2_APPLICATION_KEY_ID": "", "B2_APPLICATION_KEY": "",
           # rclone reads flags from RCLONE_* variables: slow it down, print stats each second.
           "RCLONE_BWLIMIT": "400k", "RCLONE_STATS": "1s"}
    proc = subprocess.Popen(["bash", str(wrapper)], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        app = MirrorApp(jd.job, jd.args, hostname="testhost")
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.running is not None and app.run_state.running
                             and app.run_state.stats is not None and app.vitals is not None,
                             what="the legacy run with stats and vitals")
            assert app.running is not None and app.running.kind == "legacy"
            assert app.run_state.legacy
            await wait_text(pilot, "RUNNING", "by the legacy wrapper")
            await pilot.press("a", "y")
            await wait_until(pilot, lambda: app.run_state.phase is Phase.ENDED,
                             what="the legacy run to end")
            assert app.run_state.outcome is Outcome.ABORTED
            assert app.run_state.exit_code == 143
        assert proc.wait(10) == 143
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
