"""Issue 15, item 4 on the dashboard: `w` asks for a rate (checked before anything is sent),
sets it on the running sync through rclone's remote control, and the dashboard shows the
limit in force (rclone's own answer), after the start and after the change. A real sync of
a 32 MiB file held at 256k by the job's bwlimit key; its socket in a root-only run folder."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from app_helpers import (
    JobDir,
    cli_run,
    make_job_dir,
    screen_text,
    stop_runner,
    wait_text,
    wait_until,
)

from tui.app.app import MirrorApp
from tui.app.screens.bandwidth import BandwidthScreen

SIZE = 32 * 1024 * 1024


def _job(root: Path) -> JobDir:
    jd = make_job_dir(root, files=0, bwlimit_key="256k", run_folder=True)
    (jd.src / "big.bin").write_bytes(os.urandom(SIZE))
    return jd


async def test_w_changes_the_running_syncs_limit(tmp_path: Path) -> None:
    jd = _job(tmp_path)
    app = MirrorApp(jd.job, jd.args, hostname="h")
    proc: subprocess.Popen[bytes] | None = None
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: app.caught_up, what="settle")
            proc = cli_run(jd)
            await wait_text(pilot, "(limit 256 KiB/s)", timeout=30)
            assert "w Limit" in screen_text(pilot).splitlines()[-1]
            await pilot.press("w")
            await wait_until(pilot, lambda: isinstance(app.screen, BandwidthScreen),
                             what="the dialog")
            # A typo is refused in the dialog; nothing is sent.
            await pilot.press(*"fast", "enter")
            await wait_text(pilot, "bandwidth limit 'fast' is not a rate like 512k")
            assert isinstance(app.screen, BandwidthScreen)
            await pilot.press(*(["backspace"] * 4), *"8M", "enter")
            await wait_text(pilot, "(limit 8 MiB/s)", timeout=15)
            # 32 MiB at 256 KiB/s would take two minutes: at 8 MiB/s it ends in seconds.
            await wait_text(pilot, "LAST RUN SUCCEEDED", timeout=60)
        assert proc is not None and proc.wait(timeout=30) == 0
        assert (jd.dst / "big.bin").stat().st_size == SIZE
        log = jd.job.log_file.read_text(errors="replace")
        assert "Starting bandwidth limiter at 256Ki Byte/s" in log
        # rclone's own word (its JSON log) that the change reached it.
        assert '"msg":"Bandwidth limit set to {8Mi 8Mi}"' in log
    finally:
        stop_runner(jd.job)
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
