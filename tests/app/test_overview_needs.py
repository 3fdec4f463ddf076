"""Issue 22, item 3: the overview sorts, colours and counts its jobs by need. Built from real
runs of the runner and rclone: one job whose sync failed (its source is gone), one whose
last success is older than warn_after (stale), and one running now whose previous run was
stopped by the stall watchdog (rclone SIGSTOPped)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
from app_helpers import REPO, screen_text, stop_runner, wait_sync, wait_until
from sm_testkit import rclone_children, write_toml

from tui.app.app import MirrorApp
from tui.app.screens.overview import OverviewScreen
from tui.config import Job, Overrides, load_job


def _run(config: Path, job: str, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "tui", "--config", str(config), "--job",
                             job, "run", *extra], cwd=REPO, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _jobs(tmp_path: Path) -> Path:
    keys: dict[str, dict[str, object]] = {}
    for name in ("running", "stale", "failed"):
        base = tmp_path / name
        src = base / "src"
        src.mkdir(parents=True)
        (src / "small.txt").write_text("small")
        keys[name] = {
            "source": str(src), "destination": str(base / "dst"), "require_mount": False,
            "env_file": "", "log_file": str(base / "log"), "lock_file": str(base / "lock"),
            "metrics_file": str(base / "m.prom"), "summary_file": str(base / "s.json"),
            "stall_timeout": 2, "abort_grace": 1, "bwlimit": "100k"}
    keys["stale"].update({"warn_after": 1, "bwlimit": "off"})
    keys["failed"]["source"] = str(tmp_path / "failed" / "gone")
    return write_toml(tmp_path / "config.toml", keys)


def _syncing(pid: int) -> list[psutil.Process]:
    """The runner's `rclone sync` (not the pre-flight's `rclone version`)."""
    out = []
    for p in rclone_children(pid):
        try:
            if "sync" in p.cmdline():
                out.append(p)
        except psutil.Error:
            pass
    return out


def _stall_once(config: Path, job: Job) -> None:
    """A real run stopped by the watchdog: its rclone SIGSTOPped mid-transfer."""
    size = job.log_file.stat().st_size
    proc = _run(config, job.name)
    wait_sync(lambda: bool(_syncing(proc.pid))
              and b'"bytes":' in job.log_file.read_bytes()[size:], what="rclone's first stats")
    rclone = _syncing(proc.pid)[0]
    rclone.send_signal(signal.SIGSTOP)
    try:
        assert proc.wait(30) == 79
    finally:
        try:
            rclone.send_signal(signal.SIGCONT)
        except Exception:  # it was killed: nothing to continue
            pass


async def test_overview_singles_out_what_needs_the_operator(tmp_path: Path) -> None:
    config = _jobs(tmp_path)
    jobs = [load_job(config, name, Overrides()) for name in ("running", "stale", "failed")]
    running = jobs[0]
    assert _run(config, "failed").wait(30) != 0
    assert _run(config, "stale").wait(30) == 0
    assert _run(config, "running").wait(30) == 0  # it had a good mirror: not stale
    for i in range(3):  # then more to copy: ~12 s at 100 KiB/s
        (Path(str(running.source)) / f"f{i}.bin").write_bytes(os.urandom(400_000))
    _stall_once(config, running)
    proc = _run(config, "running")  # runs ~12 s at 100 KiB/s: long enough to look at
    try:
        wait_sync(lambda: running.log_file.read_bytes().count(b"Starting Space Mirror") == 3
                  and bool(_syncing(proc.pid)), what="the third run to start")
        app = MirrorApp(jobs[0], [], jobs=[(j, ["--job", j.name]) for j in jobs],
                        hostname="h", timers=lambda: {})
        async with app.run_test(size=(100, 24)) as pilot:
            screen = pilot.app.screen
            assert isinstance(screen, OverviewScreen)
            await wait_until(pilot, lambda: screen.surveys >= 1
                             and all(r.health is not None for r in screen.rows),
                             what="the first survey with every job's health")
            await pilot.pause()
            shown = screen_text(pilot)
            assert "3 jobs · 1 failed · 1 stale · 1 running" in shown, shown
            rows = [ln.split()[0] for ln in shown.splitlines()
                    if ln.split() and ln.split()[0] in ("running", "stale", "failed")]
            assert rows == ["failed", "stale", "running"], shown
            line = next(ln for ln in shown.splitlines() if ln.split()[:1] == ["running"])
            assert "prev stalled" in line, line
            # History's colours: the failed row's state is red, the running one cyan.
            from textual.widgets import DataTable
            table = screen.query_one(DataTable)
            state_failed = table.get_row("failed")[1]
            state_running = table.get_row("running")[1]
            assert "red" in str(getattr(state_failed, "style", "")), state_failed
            assert "cyan" in str(getattr(state_running, "style", "")), state_running
            # Enter opens the job under the cursor, whatever its position after sorting.
            table.move_cursor(row=table.get_row_index("stale"))
            await pilot.press("enter")
            await wait_until(pilot, lambda: getattr(pilot.app.screen, "job", None) is not None,
                             what="the job's dashboard")
            assert pilot.app.screen.job.name == "stale"  # type: ignore[attr-defined]
    finally:
        stop_runner(running)
        proc.wait(20)
