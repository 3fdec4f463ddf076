"""Issue 11, rows 1, 2, 3 and 9: the job lock against a local user (`nobody`).

Each test plays the attack as the issue found it, then checks that root's runner and the
dashboard's abort path (tui.ops.processes.find_running + request_abort, exactly what the
dashboard's `a` → `y` calls) neither write through, nor signal, nor stop for the attacker.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest
from sm_testkit import wait_until

from tui.config import load_job
from tui.ops import lock, processes

from .conftest import (
    as_nobody,
    need_unprotected_symlinks,
    nobody_popen,
    popen_cli,
    root_secret,
    stop_group,
)


@pytest.mark.parametrize("folder_mode", [0o1777, 0o777], ids=["sticky-like-run-lock", "open"])
def test_row1_symlinked_lock_is_not_followed(sec_job, open_folder, run_cli, reachable: Path,
                                             folder_mode: int) -> None:
    if folder_mode & 0o1000:
        need_unprotected_symlinks()
    shared = open_folder("lockdir", folder_mode)
    target = root_secret(reachable)
    job = sec_job(lock_file=str(shared / "space-mirror-t.lock"))
    (job.source / "a").write_text("a")
    planted = as_nobody("ln", "-s", str(target), str(shared / "space-mirror-t.lock"))
    assert planted.returncode == 0, planted.stderr
    r = run_cli("--config", str(job.config), "run")
    assert target.read_text() == "root's precious content\n"  # not written, not truncated
    assert r.returncode == 78, (r.stdout, r.stderr)
    # ELOOP (O_NOFOLLOW), or EACCES where fs.protected_regular guards a sticky folder
    assert "cannot use lock file" in r.stderr and "Traceback" not in r.stderr
    assert not job.dest.exists()


def test_row2_forged_record_never_gets_a_root_process_killed(forged_lock, root_victim) -> None:
    job = load_job(forged_lock.config, "t")
    running = processes.find_running(job)
    assert running is not None  # the dashboard still shows that the lock is held
    assert running.pid != root_victim.pid and running.rclone_pid != root_victim.pid
    problem = processes.request_abort(running)  # the dashboard's `a`, then `y`
    assert problem is not None and "not signalling" in problem
    assert "uid" in problem  # why: the lock file is nobody's
    assert root_victim.poll() is None
    assert psutil.Process(root_victim.pid).status() != psutil.STATUS_ZOMBIE


def test_row2_trusted_record_with_a_reused_pid_is_not_signalled(tmp_path: Path,
                                                                root_victim) -> None:
    """A record of ours whose pid now names another process (pid reuse, or a record left by
    a killed runner): the start time and command line say it is not the runner."""
    from tui.config import Job

    job = Job(name="t", lock_file=tmp_path / "lock", env_file=None)
    record = lock.LockRecord.from_json(json.dumps({
        "pid": root_victim.pid, "run_id": "20261125T030001-beef", "job": "t", "mode": "sync",
        "log": "/dev/null", "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "pid_start": time.time() - 3600}))
    assert record is not None
    held = lock.try_acquire(job.lock_path, record)
    assert isinstance(held, lock.HeldLock)
    try:
        running = processes.find_running(job)
        assert running is not None and running.pid == root_victim.pid
        problem = processes.request_abort(running)
        assert problem is not None and "not signalling" in problem, problem
        assert root_victim.poll() is None
    finally:
        held.release()


@pytest.fixture
def default_layout_job(sec_job) -> Iterator[tuple[object, str]]:
    """A job with the default lock place (whatever this version's default is), under a name
    no other job uses; its lock folder is removed afterwards."""
    name = f"sec-{secrets.token_hex(4)}"
    job_files = sec_job(name, lock_file=None)
    job = load_job(job_files.config, name)
    yield job_files, name
    path = job.lock_path
    shutil.rmtree(path.parent, ignore_errors=True) if path.parent.name == name else \
        path.unlink(missing_ok=True)


def test_row3_nobody_cannot_hold_the_lock_shared(default_layout_job, run_cli) -> None:
    job_files, name = default_layout_job
    (job_files.source / "a").write_text("a")
    assert run_cli("--config", str(job_files.config), "run").returncode == 0  # lock exists
    lock_path = load_job(job_files.config, name).lock_path
    holder = nobody_popen("flock", "-s", str(lock_path), "sh", "-c", "echo held; sleep 600")
    try:
        assert holder.stdout is not None
        first = holder.stdout.readline().strip()
        # nobody may not even open it: flock(1) fails and says so
        assert first != "held", "nobody holds a shared lock on root's lock file"
        r = run_cli("--config", str(job_files.config), "run")
        assert r.returncode == 0, r.stderr
    finally:
        stop_group(holder)


def test_row3_a_holder_that_is_no_runner_is_reported_and_fails_the_unit(
        sec_job, run_cli, reachable: Path) -> None:
    job_files = sec_job(max_duration=1)
    (job_files.source / "a").write_text("a")
    assert run_cli("--config", str(job_files.config), "run").returncode == 0
    lock_path = Path(job_files.keys["lock_file"])
    # Something holds the lock without being a runner (a stray child that inherited it).
    holder = subprocess.Popen(["flock", "-s", str(lock_path), "sleep", "600"],
                              start_new_session=True)
    try:
        wait_until(lambda: lock.inspect(lock_path) is not None, 10, "the foreign holder")
        c = run_cli("--config", str(job_files.config), "check", "--offline")
        assert c.returncode == 78
        assert "not a runner" in c.stdout and f"pid {holder.pid}" in c.stdout
        # Past max_duration (1 s) the run fails instead of passing as "already running".
        r = wait_until(lambda: (lambda r: r if r.returncode != 75 else None)(
            run_cli("--config", str(job_files.config), "run")), 30, "a stuck-lock failure")
        assert r.returncode == 69, (r.returncode, r.stderr)
        assert "not a runner" in r.stderr and "maximum duration" in r.stderr
        assert "space-mirror lock:" in job_files.log.read_text()  # logged
        prom = (job_files.base / "metrics_lock.prom").read_text()
        assert 'space_mirror_lock_foreign_holder{job="t"} 1' in prom
        assert 'space_mirror_lock_stuck{job="t"} 1' in prom
        # the last run's own series are untouched
        assert "space_mirror_last_run_success" in (job_files.base / "metrics.prom").read_text()
    finally:
        os.killpg(holder.pid, signal.SIGKILL)  # flock(1) and its child, which holds the lock
        holder.wait()
    wait_until(lambda: lock.inspect(lock_path) is None, 10, "the holder to be gone")
    assert run_cli("--config", str(job_files.config), "run").returncode == 0
    assert not (job_files.base / "metrics_lock.prom").exists()


def test_row9_deleting_the_lock_file_does_not_let_a_second_sync_start(
        default_layout_job, cli_env) -> None:
    job_files, name = default_layout_job
    (job_files.source / "big.bin").write_bytes(os.urandom(4_000_000))
    # --bwlimit keeps the first sync running for ~20 s
    cfg = job_files.config
    cfg.write_text(cfg.read_text().replace('"--transfers", "4"',
                                           '"--transfers", "4", "--bwlimit", "200k"'))
    lock_path = load_job(cfg, name).lock_path
    first = popen_cli("--config", str(cfg), "run", env=cli_env)
    try:
        wait_until(lambda: getattr(lock.read_holder(lock_path), "rclone_pid", None),
                   30, "the first sync's rclone")
        lock_path.unlink()
        second = popen_cli("--config", str(cfg), "run", env=cli_env)
        out, err = second.communicate(timeout=60)
        assert second.returncode == 75, (second.returncode, out, err)
        assert first.poll() is None  # the first sync goes on
        log = json.dumps(job_files.log.read_text())
        assert log.count("Starting Space Mirror...") == 1
    finally:
        os.killpg(first.pid, signal.SIGTERM)
        first.communicate(timeout=60)
