"""The dashboard knows when a live run stopped moving: STALLED, "no progress for 4m12s"
after 10 s without progress, an ETA of `—` instead of rclone's 106751 days, and a header that
says how old the last good mirror is. The clock is injected; nothing sleeps. The test, not
the worker threads, delivers the once-a-second probe and the lines read (the same
messages), so no thread's timing (nor faketime's effect on it) matters."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app_helpers import screen_text, wait_text, wait_until
from textual.pilot import Pilot

from tui.app.app import MirrorApp
from tui.app.messages import StateUpdated, VitalsSampled
from tui.config import Job
from tui.core.logline import LineParser
from tui.core.runstate import apply_all
from tui.ops.processes import RunningSync

T0 = datetime(2030, 6, 1, 3, 0, 0, tzinfo=UTC)


def stats(when: datetime, done: int) -> str:
    # What a stalled rclone prints: a file at 100% waiting on the server, speed 0 and
    # rclone's "infinite" ETA (106751d23h47m16s in seconds).
    s = {"bytes": done, "totalBytes": 4_000_000, "speed": 0, "eta": 9223372036,
         "transfers": 0, "totalTransfers": 2, "checks": 0, "listed": 2, "elapsedTime": 5.0,
         "transferring": [{"name": "big.bin", "size": 2_000_000, "bytes": 2_000_000,
                           "percentage": 100, "speed": 0, "eta": 0}]}
    return json.dumps({"time": when.isoformat().replace("+00:00", "Z"), "level": "info",
                       "msg": "stats", "stats": s, "source": "accounting/stats.go:549"})


async def test_no_progress_line_eta_dash_and_last_good(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_text("\n".join([
        f"[{T0.isoformat()}] Starting Space Mirror... run=r1 job=t mode=sync pid=42 by=timer",
        stats(T0 + timedelta(seconds=1), 2_000_000),
        stats(T0 + timedelta(seconds=2), 2_000_000),
    ]) + "\n")
    summary = tmp_path / "s.json"
    summary.write_text(json.dumps({"mode": "sync", "outcome": "failed", "exit_code": 5,
                                   "last_success_ended": (T0 - timedelta(hours=27))
                                   .timestamp()}))
    job = Job(name="t", source="/srv/src", destination="/mnt/dst", log_file=log,
              lock_file=tmp_path / "lock", summary_file=summary, env_file=None)
    now = [T0 + timedelta(seconds=3)]
    running = RunningSync("runner", 42, None, "r1", T0.isoformat(), "sync", "timer")
    app = MirrorApp(job, [], clock=lambda: now[0], hostname="h",
                    find_running=lambda _j: running, sample_interval=3600)

    async def probe(pilot: Pilot[int]) -> None:
        before = app.probes
        app.dashboard.post_message(VitalsSampled(running, None))  # the screen owns it
        await wait_until(pilot, lambda: app.probes > before, what="the probe")

    async def read_line(pilot: Pilot[int], line: str) -> None:
        state = apply_all(app.run_state, LineParser().feed(line))
        before = app.state_updates
        app.dashboard.post_message(StateUpdated(state, app.started_by, True))
        await wait_until(pilot, lambda: app.state_updates > before, what="the state update")

    async with app.run_test(size=(120, 30)) as pilot:
        shown = await wait_text(pilot, "RUNNING", "ETA —", "last good mirror 27 h ago")
        assert "106751" not in shown and "no progress" not in shown
        now[0] += timedelta(seconds=5)  # a pause between two lines: not yet worth saying
        await probe(pilot)
        await pilot.pause()
        assert "no progress" not in screen_text(pilot)
        now[0] = T0 + timedelta(seconds=3 + 4 * 60 + 12)
        await probe(pilot)
        shown = await wait_text(pilot, "STALLED", "no progress for 4m12s")
        assert "RUNNING" not in shown
        # Another line with the same numbers is not progress; a moved counter is. (Posted as
        # the feed worker posts what it read: the worker's polling is not under test here.)
        await read_line(pilot, stats(now[0], 2_000_000))
        await probe(pilot)
        await pilot.pause()
        assert "no progress for 4m12s" in screen_text(pilot)
        await read_line(pilot, stats(now[0], 2_500_000))
        await wait_until(pilot, lambda: "no progress" not in screen_text(pilot),
                         what="the stall line to go once bytes move")


def test_last_good_mirror_is_coloured_past_warn_after() -> None:
    from tui.app.widgets.status import last_good_line

    now = T0
    fresh = last_good_line(now - timedelta(hours=3), now, warn_after=26 * 3600)
    stale = last_good_line(now - timedelta(hours=27), now, warn_after=26 * 3600)
    assert fresh == ("last good mirror 3 h ago", "$text-muted")
    assert stale == ("last good mirror 27 h ago", "$text-error bold")
    assert last_good_line(None, now, 1.0) is None


async def test_issue22_a_sigstopped_rclone_is_shown_stalled(tmp_path: Path) -> None:
    """Issue 22, item 1, from a real run: rclone stopped with SIGSTOP. Within 10 s the state
    word says STALLED with the countdown to the watchdog's stop; speed and ETA show `—`
    (not rclone's last numbers) and the elapsed time keeps counting."""
    import os
    import re
    import signal
    import time

    from app_helpers import cli_run, make_job_dir, stop_runner, wait_sync
    from sm_testkit import rclone_children

    from tui.config import Overrides, load_job

    jd = make_job_dir(tmp_path, files=4, size=1_000_000, bwlimit="100k")
    with open(jd.config, "a") as fh:
        fh.write("stall_timeout = 900\n")
    jd.job = load_job(jd.config, "t", Overrides())
    proc = cli_run(jd)
    stopped: list[int] = []
    try:
        wait_sync(lambda: jd.job.log_file.exists()
                  and b'"bytes":' in jd.job.log_file.read_bytes()
                  and bool(rclone_children(proc.pid)), what="rclone's first stats")
        rclone = rclone_children(proc.pid)[0].pid
        os.kill(rclone, signal.SIGSTOP)
        stopped.append(rclone)
        stopped_at = time.monotonic()
        app = MirrorApp(jd.job, jd.args, hostname="h")
        async with app.run_test(size=(100, 30)) as pilot:
            shown = await wait_text(pilot, "STALLED", "stops in", timeout=20)
            assert time.monotonic() - stopped_at < 10 + 8, "STALLED took too long"  # slack
            assert "RUNNING" not in shown
            progress = next(ln for ln in shown.splitlines() if "elapsed" in ln)
            assert "ETA —" in progress and "· —" in progress, progress
            assert "B/s" not in progress, progress  # no stale speed
            first = re.search(r"elapsed (\S+)", progress)
            assert first is not None
            await wait_until(pilot, lambda: (m := re.search(
                r"elapsed (\S+)", screen_text(pilot))) is not None and m[1] != first[1],
                timeout=10, what="the elapsed time to keep counting")
            assert re.search(r"stops in 1[45]m\d\ds", screen_text(pilot)), screen_text(pilot)
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
        stop_runner(jd.job)
        proc.wait(20)
