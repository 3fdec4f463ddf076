"""Fault 3: concurrency. Several `space-mirror run` started at once (the timer, a person at
a shell, a dashboard's detached start): exactly one rclone runs, and every other start gets
the documented answer, exit 75 and "already running"."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.reliability.conftest import (
    SftpServer,
    make_tree,
    partial_files,
    rclone_processes,
    wait_for,
    write_job,
)
from tui.core import exitcodes
from tui.ops import lock


@pytest.mark.slow
def test_racing_starts_run_exactly_one_rclone(tmp_path: Path, sftp_server: SftpServer) -> None:
    src = tmp_path / "src"
    make_tree(src, 12, 128 * 1024)
    job = write_job(tmp_path / "job", src, sftp_server, ["--transfers", "4", "--bwlimit", "1M"])
    # Four starts at once: two from "shells", one as the timer would, one as a dashboard would.
    variants = [(), (), ("--started-by", "timer"), ("--started-by", "dashboard")]
    procs = [job.spawn(*v) for v in variants]
    seen_max = 0
    try:
        def all_done() -> bool:
            # Sample the rclone processes all along: never more than one at any moment.
            nonlocal seen_max
            seen_max = max(seen_max, len(rclone_processes(str(src))))
            return all(p.poll() is not None for p in procs)

        wait_for(all_done, 90, interval=0.02, what="every start to finish")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    results = []
    for p in procs:
        out, err = p.communicate()
        results.append((p.returncode, out + err))
    codes = sorted(code for code, _ in results)
    assert codes == [0, exitcodes.LOCKED, exitcodes.LOCKED, exitcodes.LOCKED], results
    for code, text in results:
        if code == exitcodes.LOCKED:
            assert "already running" in text
            assert "pid" in text and "started" in text
            assert "Traceback" not in text
    assert seen_max == 1  # observed while running, and never two at once
    # Exactly one run in the log: the losers wrote no markers that could confuse a follower.
    assert job.log_text().count("Starting Space Mirror...") == 1
    assert lock.read_holder(job.lock) is None
    assert partial_files(job.dest_path) == []


@pytest.mark.slow
def test_check_reports_the_running_sync(tmp_path: Path, sftp_server: SftpServer) -> None:
    src = tmp_path / "src"
    make_tree(src, 10, 128 * 1024)
    job = write_job(tmp_path / "job", src, sftp_server, ["--transfers", "2", "--bwlimit", "1M"])
    runner = job.spawn()
    try:
        holder = wait_for(lambda: lock.read_holder(job.lock), 30, what="the lock")
        assert isinstance(holder, lock.LockRecord)
        check = subprocess.run(job.cli("check", "--offline"), capture_output=True, text=True,
                               timeout=60)
        assert check.returncode == exitcodes.CONFIG
        assert f"sync already running (pid {holder.pid}" in check.stdout
    finally:
        runner.terminate()
        runner.wait(60)
        if runner.stdout:
            runner.stdout.close()
        if runner.stderr:
            runner.stderr.close()
