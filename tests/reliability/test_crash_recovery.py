"""A run killed outright must not block the next one (issue 10, item 3).

The OOM killer, a reboot or a power loss kill the runner and rclone together: no end marker,
and no chance for the runner to record the interruption. rclone's `.partial` files stay at the
destination; the next sync deletes them, and rclone counts those deletes against the
--max-delete cap. Seen before the fix, with --transfers 16 and a 20-file baseline: 16 partial
files, a cap of 10, and exit 7 (`max-delete guard reached`) on the next plain run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from sm_testkit import digest_tree, wait_until

from tests.reliability.conftest import partial_files
from tui.ops import lock

pytestmark = pytest.mark.slow


def test_next_run_succeeds_after_runner_and_rclone_are_killed(job_config, make_tree, run_cli,
                                                              cli_env) -> None:
    job = job_config(flags=["--transfers", "16", "--bwlimit", "4M"])
    make_tree(job.source, {f"small/{i:02d}.txt": 100 for i in range(20)})
    first = run_cli("--config", str(job.config), "run")
    assert first.returncode == 0, first.stderr
    assert json.loads(job.summary.read_text())["last_success_dest_files"] == 20

    # 16 files of 1 MiB at 4 MiB/s in all: every transfer is in flight for ~4 s.
    make_tree(job.source, {f"big/{i:02d}.bin": 1 << 20 for i in range(16)})
    runner = subprocess.Popen([sys.executable, "-m", "tui", "--config", str(job.config), "run"],
                              env=cli_env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_until(lambda: len(partial_files(job.dest)) == 16, 60, "16 transfers in flight",
                   interval=0.02)
        holder = lock.read_holder(job.lock)
        assert holder is not None and holder.rclone_pid
        # Both at once, as the kernel would: neither lives to write anything.
        os.kill(runner.pid, signal.SIGKILL)
        os.kill(holder.rclone_pid, signal.SIGKILL)
        runner.wait(10)
    finally:
        if runner.poll() is None:
            runner.kill()
    wait_until(lambda: not _alive(holder.rclone_pid), 10, "rclone to be gone")
    assert len(partial_files(job.dest)) == 16
    assert "Space Mirror Complete" not in job.log_text().splitlines()[-1]

    # The next plain run cleans the partial files up within its cap and succeeds.
    again = run_cli("--config", str(job.config), "run")
    assert again.returncode == 0, again.stdout + again.stderr
    assert partial_files(job.dest) == []
    assert digest_tree(job.dest) == digest_tree(job.source)
    summary = json.loads(job.summary.read_text())
    assert summary["outcome"] == "success" and summary["interrupted_since_success"] == 0


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ")[-1][:1] != "Z"
    except OSError:
        return False


def test_a_run_marks_itself_interrupted_while_rclone_runs(job_config, make_tree, run_cli,
                                                          cli_env) -> None:
    """The evidence is in the summary while rclone runs, and the run's end replaces it with
    the truth."""
    job = job_config(flags=["--transfers", "2", "--bwlimit", "1M"])
    make_tree(job.source, {"a.txt": 10})
    assert run_cli("--config", str(job.config), "run").returncode == 0
    make_tree(job.source, {"b.bin": 3 << 20})  # ~3 s at 1 MiB/s
    runner = subprocess.Popen([sys.executable, "-m", "tui", "--config", str(job.config), "run"],
                              env=cli_env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        holder = wait_until(lambda: (h := lock.read_holder(job.lock)) and h.rclone_pid and h,
                            30, "rclone to start")
        during = json.loads(job.summary.read_text())
        assert during["in_progress_run_id"] == holder.run_id
        assert during["interrupted_since_success"] == 1
        assert during["last_success_dest_files"] == 1  # the baseline is carried, not reset
        assert runner.wait(60) == 0
    finally:
        if runner.poll() is None:
            runner.kill()
    after = json.loads(job.summary.read_text())
    assert after["outcome"] == "success" and after["interrupted_since_success"] == 0
    assert "in_progress_run_id" not in after
