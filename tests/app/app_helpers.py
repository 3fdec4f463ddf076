"""Helpers for Pilot tests of the dashboard against real rclone runs (local → local)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual.pilot import Pilot

from tui.config import Job, Overrides, load_job
from tui.ops import lock

REPO = Path(__file__).resolve().parents[2]


@dataclass
class JobDir:
    root: Path
    config: Path
    job: Job
    args: list[str]

    @property
    def src(self) -> Path:
        return self.root / "src"

    @property
    def dst(self) -> Path:
        return self.root / "dst"


def make_job_dir(root: Path, files: int = 8, size: int = 40_000,
                 bwlimit: str | None = None, bwlimit_key: str | None = None,
                 run_folder: bool = False) -> JobDir:
    """`bwlimit`: as rclone's flag; `bwlimit_key`: the job's key. `run_folder`: the lock (and
    so rclone's remote control socket) in a root-only folder of its own."""
    src = root / "src"
    (src / "a").mkdir(parents=True)
    (src / "b" / "x[").mkdir(parents=True)
    for i in range(files):
        (src / "a" / f"f{i:02d}.bin").write_bytes(os.urandom(size))
    # A name that is markup to Rich: it must show as plain text and crash nothing.
    (src / "b" / "x[" / "bold].txt").write_text("plain\n")
    flags = ["--transfers", "2"] + (["--bwlimit", bwlimit] if bwlimit else [])
    lock = root / "lock"
    if run_folder:
        (root / "run").mkdir(mode=0o700)
        lock = root / "run" / "t.lock"
    key = f'bwlimit = "{bwlimit_key}"\n' if bwlimit_key else ""
    config = root / "job.toml"
    flag_list = ", ".join(f'"{f}"' for f in flags)
    config.write_text(f"""[jobs.t]
source = "{src}"
destination = "{root / 'dst'}"
flags = [{flag_list}]
log_file = "{root / 'log'}"
lock_file = "{lock}"
metrics_file = "{root / 'm.prom'}"
summary_file = "{root / 's.json'}"
require_mount = false
env = {{}}
abort_grace = 5
{key}""")
    job = load_job(config, "t", Overrides())
    return JobDir(root, config, job, ["--config", str(config), "--job", "t"])


def stop_runner(job: Job) -> None:
    """Make sure no runner of ours outlives the test (SIGTERM, then wait for the lock)."""
    import signal

    holder = lock.read_holder(job.lock_path)
    if holder is None:
        return
    try:
        os.kill(holder.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 15
    while lock.read_holder(job.lock_path) is not None and time.monotonic() < deadline:
        time.sleep(0.05)


def cli_run(jd: JobDir, *extra: str) -> subprocess.Popen[bytes]:
    """`space-mirror run` in another process, as the timer or a person at a shell would."""
    return subprocess.Popen([sys.executable, "-m", "tui", *jd.args, "run", *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            cwd=REPO, start_new_session=True)


async def wait_until(pilot: Pilot[int], predicate: Callable[[], bool], timeout: float = 20.0,
                     what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


def wait_sync(predicate: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def screen_text(pilot: Pilot[int]) -> str:
    """What the terminal shows, as plain text."""
    compositor = pilot.app.screen._compositor
    return "\n".join(strip.text for strip in compositor.render_strips())


async def wait_text(pilot: Pilot[int], *texts: str, timeout: float = 10.0) -> str:
    """Wait until the screen shows every one of `texts` (a repaint may lag a state change)."""
    deadline = time.monotonic() + timeout
    while True:
        shown = screen_text(pilot)
        if all(t in shown for t in texts):
            return shown
        if time.monotonic() > deadline:
            missing = [t for t in texts if t not in shown]
            raise AssertionError(f"never shown: {missing}; the screen was:\n{shown}")
        await pilot.pause(0.05)
