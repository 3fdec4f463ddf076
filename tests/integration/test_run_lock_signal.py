"""The lock (held, stale) and an operator's SIGTERM in the middle of a transfer."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from sm_testkit import (
    REPO,
    JobFiles,
    rclone_alive,
    rclone_children,
    s3_env_lines,
    wait_until,
)

from tui.core.logline import StatsUpdate, parse_line
from tui.core.markers import MarkerKind, parse_marker


def start_cli(cli_env: dict[str, str], *argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tui", *argv], env=cli_env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, cwd=str(REPO))


def stats_with_bytes(job: JobFiles) -> bool:
    for ln in job.log_text().splitlines():
        ev = parse_line(ln) if ln.startswith("{") else None
        if isinstance(ev, StatsUpdate) and ev.stats.bytes > 0:
            return True
    return False


def test_lock_held_by_a_live_process(job_config, make_tree, run_cli) -> None:
    job = job_config()
    make_tree(job.source, {"a": 10})
    # Started now: a lock held longer than the job's maximum duration is another story
    # (tests/security/test_lock_identity.py).
    started = datetime.now(UTC).isoformat(timespec="seconds")
    record = {"pid": os.getpid(), "run_id": "20261125T030001-beef", "job": "t", "mode": "sync",
              "log": str(job.log), "started": started}
    fd = os.open(job.lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.write(fd, json.dumps(record).encode())
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        r = run_cli("--config", str(job.config), "run")
        assert r.returncode == 75, r.stderr
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and "Traceback" not in r.stderr
        assert f"pid {os.getpid()}" in lines[0]
        assert f"started {started}" in lines[0]
        assert not job.dest.exists()
        # `check` names the holder as well
        c = run_cli("--config", str(job.config), "check", "--offline")
        assert c.returncode == 78 and f"pid {os.getpid()}" in c.stdout
    finally:
        os.close(fd)
    # released: the next run goes ahead
    assert run_cli("--config", str(job.config), "run").returncode == 0


def test_stale_lock_of_a_dead_process_is_taken_over(job_config, make_tree, run_cli,
                                                    tree_digest) -> None:
    job = job_config()
    make_tree(job.source, {"a": 10, "b/c": 20})
    dead = subprocess.Popen(["true"])
    dead.wait()
    assert not psutil.pid_exists(dead.pid)
    job.lock.write_text(json.dumps({"pid": dead.pid, "run_id": "old", "job": "t",
                                    "mode": "sync", "log": str(job.log),
                                    "started": "2026-11-24T03:00:01+00:00"}))
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 0, r.stderr
    assert tree_digest(job.dest) == tree_digest(job.source)
    assert job.lock.read_text() == ""  # released on exit


def test_sigterm_mid_transfer(job_config, make_tree, cli_env) -> None:
    job = job_config(flags=["--bwlimit", "200k", "--transfers", "1"])
    make_tree(job.source, {"big.bin": 3_000_000})
    proc = start_cli(cli_env, "--config", str(job.config), "run")
    try:
        wait_until(lambda: stats_with_bytes(job) or proc.poll() is not None, 20,
                   "a stats line with bytes > 0")
        assert proc.poll() is None, proc.communicate()
        kids = rclone_children(proc.pid)
        assert kids, "rclone should be running under the runner"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, (out, err)
    assert "Traceback" not in err
    for k in kids:
        wait_until(lambda k=k: not rclone_alive(k.pid), 10, "rclone to exit")
    end = [m for m in (parse_marker(ln) for ln in job.log_text().splitlines()) if m][-1]
    assert end.kind is MarkerKind.ABORTED and end.exit_code == 143
    assert "SIGTERM" in end.fields["reason"]
    assert int(end.fields["bytes"]) > 0
    assert "aborted (exit 143)" in out
    # rclone removed its partial file; the mirror holds no half-copied big.bin
    assert not (job.dest / "big.bin").exists()
    left = [p.name for p in job.dest.rglob("*") if p.is_file()] if job.dest.exists() else []
    assert left == []


def test_lock_file_in_an_unwritable_place(job_config, make_tree, run_cli, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    job = job_config(lock_file=str(blocker / "sub" / "lock"))
    make_tree(job.source, {"a": 1})
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 78
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "lock" in lines[0] and "Traceback" not in r.stderr


def test_sigterm_during_the_preflight(job_config, make_tree, cli_env, tmp_path: Path) -> None:
    """A signal before rclone starts: the pre-flight in progress ends, rclone never runs,
    the exit code is 143 and the log holds no half run."""
    silent = socket.socket()  # accepts connections (kernel backlog) and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    port = silent.getsockname()[1]
    env_file = tmp_path / "s3.env"
    env_file.write_text(s3_env_lines(port))
    env_file.chmod(0o600)
    job = job_config(destination=":s3:bucket", env_file=str(env_file), remote_timeout=3)
    make_tree(job.source, {"a": 1})
    proc = start_cli(cli_env, "--config", str(job.config), "run")
    try:
        def in_preflight() -> bool:
            return any("lsf" in k.cmdline() for k in rclone_children(proc.pid))
        wait_until(lambda: in_preflight() or proc.poll() is not None, 15, "the remote check")
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    finally:
        silent.close()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, (out, err)
    assert "stopped by SIGTERM before rclone started" in err and "Traceback" not in err
    assert "Starting Space Mirror" not in job.log_text()
    assert not job.dest.exists()


def test_second_run_while_a_real_sync_runs(job_config, make_tree, cli_env, run_cli) -> None:
    """A real slow run holds the lock; a second run is refused with 75 and names it. When
    the first runner is SIGKILLed, rclone (which inherited the lock) still holds it."""
    job = job_config(flags=["--bwlimit", "200k", "--transfers", "1"])
    make_tree(job.source, {"big.bin": 3_000_000})
    first = start_cli(cli_env, "--config", str(job.config), "run")
    rclone: psutil.Process | None = None
    try:
        def sync_child() -> psutil.Process | None:
            assert first.poll() is None, first.communicate()
            kids = [k for k in rclone_children(first.pid) if "sync" in k.cmdline()[1:2]]
            return kids[0] if kids else None
        rclone = wait_until(sync_child, 20, "the first run's rclone sync")

        def lock_names_rclone() -> dict[str, Any] | None:
            # The runner writes rclone's pid into the lock once rclone has started: the
            # child can be seen a moment before (seen: rclone_pid still None).
            try:
                data: dict[str, Any] = json.loads(job.lock.read_text())
            except ValueError:  # read in the middle of the runner's rewrite
                return None
            return data if data.get("rclone_pid") is not None else None
        record = wait_until(lock_names_rclone, 10, "the lock naming the first run's rclone")
        assert record["pid"] == first.pid and record["rclone_pid"] == rclone.pid

        second = run_cli("--config", str(job.config), "run")
        assert second.returncode == 75
        assert f"pid {first.pid}" in second.stderr and record["started"] in second.stderr

        first.kill()  # the runner dies without a word; rclone goes on holding the lock
        first.wait(10)
        assert rclone.is_running()
        third = run_cli("--config", str(job.config), "run")
        assert third.returncode == 75, third.stderr
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
        if rclone is not None and rclone_alive(rclone.pid):
            rclone.kill()
            wait_until(lambda: not rclone_alive(rclone.pid), 10, "rclone to die")
    # rclone gone: the lock is free again (a stale record is taken over)
    final = run_cli("--config", str(job.config), "run", "--dry-run")
    assert final.returncode == 0, final.stderr
