"""The overview in a real terminal (tmux, 80x24): three real jobs, one of them running
(real runner, real rclone), opened from the overview and left again."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from test_dashboard_tmux import COMMAND, Tmux

from tui.config import Overrides, load_job
from tui.ops import lock

pytestmark = pytest.mark.e2e


def _config(root: Path) -> Path:
    parts = []
    for name in ("alpha", "bravo", "charlie"):
        src = root / name / "src"
        src.mkdir(parents=True)
        for i in range(4):
            (src / f"f{i}.bin").write_bytes(os.urandom(200_000))
        flags = '"--bwlimit", "100k", "--transfers", "1"' if name == "bravo" else ""
        parts.append(f"""[jobs.{name}]
source = "{src}"
destination = "{root / name / 'dst'}"
log_file = "{root / name / 'log'}"
lock_file = "{root / name / 'lock'}"
metrics_file = "{root / name / 'm.prom'}"
summary_file = "{root / name / 's.json'}"
require_mount = false
flags = [{flags}]
env = {{}}
""")
    config = root / "jobs.toml"
    config.write_text("\n".join(parts))
    return config


def test_overview_opens_and_leaves_the_running_job(tmp_path: Path, tmux: Tmux) -> None:
    config = _config(tmp_path)
    base = [str(COMMAND), "--config", str(config)]
    # alpha has run once (it succeeded); bravo runs now, slowly; charlie never ran.
    subprocess.run([*base, "--job", "alpha", "run"], check=True, capture_output=True,
                   timeout=60)
    bravo = load_job(config, "bravo", Overrides())
    runner = subprocess.Popen([*base, "--job", "bravo", "run"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while (holder := lock.read_holder(bravo.lock_path)) is None or holder.rclone_pid is None:
            assert time.monotonic() < deadline, "bravo's sync never started"
            time.sleep(0.1)
        tmux.start(*base)
        tmux.wait_for("3 jobs · 1 running")
        deadline = time.monotonic() + 20
        while True:  # the progress column fills at rclone's first stats line
            rows = {line.split()[0]: line for line in tmux.screen().splitlines()
                    if line.strip() and line.split()[0] in ("alpha", "bravo", "charlie")}
            if "%" in rows.get("bravo", "") or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert "succeeded" in rows["alpha"]
        assert "running" in rows["bravo"] and "%" in rows["bravo"], rows
        assert "no run" in rows["charlie"]
        tmux("send-keys", "-t", "dash", "j", "Enter")  # the second row: bravo
        screen = tmux.wait_for("a Abort")
        assert "bravo" in screen and "RUNNING" in screen
        tmux("send-keys", "-t", "dash", "Escape")  # back to the overview, the sync goes on
        tmux.wait_for("3 jobs · 1 running")
        assert runner.poll() is None
        tmux("send-keys", "-t", "dash", "q")
        deadline = time.monotonic() + 10
        while tmux.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not tmux.alive(), "q on the overview did not quit"
        assert runner.poll() is None, "leaving the dashboard must not stop the sync"
        # --job NAME opens that job's dashboard directly, overview or not. The tmux server
        # may still be exiting after its last session ended: the session must be seen to
        # start ("server exited unexpectedly" otherwise).
        tmux.start(*base, "--job", "bravo")
        screen = tmux.wait_for("a Abort")
        assert "bravo" in screen and "jobs ·" not in screen
        tmux("send-keys", "-t", "dash", "q")  # the first screen, a sync running: asks
        tmux.wait_for("leave it running and quit")
        tmux("send-keys", "-t", "dash", "l")
        deadline = time.monotonic() + 10
        while tmux.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not tmux.alive() and runner.poll() is None
    finally:
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGTERM)
        runner.wait(30)
