"""Fault 1: SIGINT, SIGTERM, SIGHUP and SIGKILL, sent to the runner and separately to rclone,
during listing, during transfer and during deletion, against a loopback sftp server.

Pass criteria, for every case: the outcome is recorded as aborted or killed (never success);
the lock is released; the next run exits 0; `rclone check` finds 0 differences; no
`.partial` file is left; every marker the runner wrote is in the log.
"""

from __future__ import annotations

import shutil
import signal
from pathlib import Path

import psutil
import pytest

from tests.reliability.conftest import (
    Job,
    SftpServer,
    kill_quietly,
    make_tree,
    partial_files,
    wait_for,
    write_job,
)
from tui.core.markers import MarkerKind, parse_marker
from tui.core.runstate import Outcome, outcome_for
from tui.ops import lock

SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGKILL]
PHASES = ["listing", "transfer", "deletion"]
FLAGS = ["--transfers", "4", "--bwlimit", "1M", "--track-renames"]


def _markers(log_text: str) -> list[tuple[MarkerKind, str | None, int | None]]:
    out = []
    for line in log_text.splitlines():
        m = parse_marker(line)
        if m is not None:
            out.append((m.kind, m.run_id, m.exit_code))
    return out


def _prepare(tmp_path: Path, server: SftpServer, phase: str) -> Job:
    src = tmp_path / "src"
    job = write_job(tmp_path / "job", src, server, FLAGS)
    if phase == "deletion":
        # The mirror is up to date, plus many files the source no longer has: the whole run
        # is deletes (rclone deletes after transfers, so this phase is long enough to hit).
        make_tree(src, 8, 4096)
        shutil.copytree(src, job.dest_path)
        stale = job.dest_path / "stale"
        stale.mkdir()
        for i in range(3000):
            (stale / f"old{i:05d}.txt").write_bytes(b"old")
    else:
        make_tree(src, 12, 160 * 1024)
    return job


def _wait_for_phase(job: Job, phase: str) -> lock.LockRecord:
    def rclone_started() -> lock.LockRecord | None:
        holder = lock.read_holder(job.lock)
        return holder if holder is not None and holder.rclone_pid else None

    holder = wait_for(rclone_started, 30, what="the runner to start rclone")
    assert isinstance(holder, lock.LockRecord)
    if phase == "transfer":
        wait_for(lambda: partial_files(job.dest_path), 30, interval=0.01,
                 what="a .partial file (a transfer in flight)")
    elif phase == "deletion":
        wait_for(lambda: '"msg":"Deleted"' in job.log_text(), 30, interval=0.005,
                 what="the first delete")
    return holder


def _wait_gone(pid: int | None, timeout: float = 60) -> None:
    if pid is None:
        return

    def gone() -> bool:
        try:
            return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    wait_for(gone, timeout, interval=0.05, what=f"pid {pid} to exit")


@pytest.mark.slow
@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("target", ["runner", "rclone"])
@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_signal_then_clean_rerun(tmp_path: Path, sftp_server: SftpServer, sig: signal.Signals,
                                 target: str, phase: str) -> None:
    job = _prepare(tmp_path, sftp_server, phase)
    allow = ("--allow-deletes", "5000") if phase == "deletion" else ()
    runner = job.spawn(*allow)
    try:
        holder = _wait_for_phase(job, phase)
        victim = runner.pid if target == "runner" else holder.rclone_pid
        assert victim is not None
        kill_quietly(victim, sig)
        runner.wait(timeout=60)
        _wait_gone(holder.rclone_pid)  # after a runner SIGKILL, rclone finishes on its own
    finally:
        kill_quietly(runner.pid)
        if runner.stdout:
            runner.stdout.close()
        if runner.stderr:
            runner.stderr.close()

    # The outcome is recorded truthfully: never success.
    markers = _markers(job.log_text())
    starts = [m for m in markers if m[0] is MarkerKind.START]
    assert len(starts) == 1
    run_id = starts[0][1]
    ends = [m for m in markers if m[0] is not MarkerKind.START and m[1] == run_id]
    if target == "runner" and sig is signal.SIGKILL:
        # The runner could write nothing: the run stays without an end marker, which the
        # history reports as incomplete. rclone itself ran on to its own end.
        assert ends == []
    else:
        assert len(ends) == 1, markers
        kind, _, code = ends[0]
        outcome = outcome_for(kind, code)
        assert outcome in (Outcome.ABORTED, Outcome.KILLED), (kind, code)
        if target == "runner" or sig in (signal.SIGINT, signal.SIGTERM):
            assert kind is MarkerKind.ABORTED
        assert runner.returncode == code

    # The lock is free again: released by the runner, or by rclone's exit (the kernel drops
    # the flock when the last descriptor closes, a moment after the process is reaped).
    wait_for(lambda: lock.read_holder(job.lock) is None, 10, what="the lock to be free")

    # One clean re-run: exit 0, nothing lost, nothing partial left behind.
    rerun = job.run(*allow)
    assert rerun.returncode == 0, rerun.stderr
    check = job.check()
    assert check.returncode == 0, check.stderr[-2000:]
    assert "0 differences found" in check.stderr
    assert partial_files(job.dest_path) == []
    # Both runs' start markers (and the re-run's end marker) are in the log.
    final = _markers(job.log_text())
    assert sum(1 for m in final if m[0] is MarkerKind.START) == 2
    assert final[-1][0] is MarkerKind.COMPLETE
