"""Live bandwidth: the runner's rc socket, `space-mirror bwlimit`, and the job's bwlimit key,
with the real rclone: the change shows in rclone's own stats lines."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sm_testkit import REPO, JobFiles, wait_until

SIZE = 32 * 1024 * 1024


@pytest.fixture
def open_base() -> Iterator[Path]:
    """A folder that `nobody` may traverse (pytest's tmp_path is inside a 0700 folder, which
    would keep nobody out whatever the runner does)."""
    base = Path(tempfile.mkdtemp(prefix="smbw-", dir="/tmp"))
    base.chmod(0o755)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def start_run(cli_env: dict[str, str], job: JobFiles) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tui", "--config", str(job.config), "run"],
                            env=cli_env, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd=str(REPO))


def stats(job: JobFiles, lo: int = 0, hi: int | None = None) -> list[tuple[float, int]]:
    """(rclone's elapsedTime, bytes) of each JSON stats line in the log's bytes [lo, hi)."""
    data = job.log.read_bytes()[lo:hi]
    out: list[tuple[float, int]] = []
    for ln in data.splitlines():
        if ln.startswith(b"{") and b'"stats":{' in ln:
            s = json.loads(ln)["stats"]
            out.append((float(s["elapsedTime"]), int(s["bytes"])))
    return out


def rate(points: list[tuple[float, int]]) -> float:
    (t0, b0), (t1, b1) = points[0], points[-1]
    return (b1 - b0) / (t1 - t0)


def as_nobody_get_bwlimit(job: JobFiles) -> str:
    """`rc.get_bwlimit` in a child that became `nobody` (forked: nothing to import)."""
    from tui.config import load_job
    from tui.ops import rc

    the_job = load_job(job.config, job.name)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            try:
                text = "ok: " + rc.get_bwlimit(the_job)
            except rc.RcError as exc:
                text = str(exc)
            os.write(write, text.encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as fh:
        answer = fh.read().decode()
    os.waitpid(pid, 0)
    return answer


def test_bwlimit_changes_a_running_sync(job_config, run_cli, cli_env, open_base: Path) -> None:
    run_dir = open_base / "run"
    run_dir.mkdir(mode=0o700)
    run_dir.chmod(0o700)  # the runner never narrows a folder it did not make (issue 20 row 5)
    job = job_config(lock_file=str(run_dir / "t.lock"), bwlimit="256k")
    (job.source / "big.bin").write_bytes(os.urandom(SIZE))
    sock = run_dir / "t.rc.sock"
    proc = start_run(cli_env, job)
    try:
        wait_until(lambda: sock.exists() or proc.poll() is not None, 30, "the rc socket")
        assert proc.poll() is None, proc.communicate()
        assert stat.S_IMODE(run_dir.stat().st_mode) == 0o700
        assert "Starting bandwidth limiter at 256Ki Byte/s" in job.log_text()  # the job's key

        shown = run_cli("--config", str(job.config), "bwlimit")
        assert (shown.returncode, shown.stdout.strip()) == (0, "job t: bandwidth limit 256 KiB/s")

        # Another user cannot connect: root can (the same call as above), nobody cannot.
        probe = ("import socket,sys\ns=socket.socket(socket.AF_UNIX)\n"
                 "try:\n s.connect(sys.argv[1])\nexcept PermissionError:\n print('denied')\n"
                 "else:\n print('connected')\n")
        who = subprocess.run(["runuser", "-u", "nobody", "--", "/usr/bin/python3", "-c", probe,
                              str(sock)], capture_output=True, text=True, timeout=30)
        assert who.stdout.strip() == "denied", who.stderr

        assert as_nobody_get_bwlimit(job) == ("permission denied on "
                                              f"{run_dir}: run as root (the run folder is "
                                              "root-only)")

        wait_until(lambda: len(stats(job)) >= 3, 30, "three stats lines at 256k")
        split = job.log.stat().st_size
        before = stats(job, 0, split)
        changed = run_cli("--config", str(job.config), "bwlimit", "8M")
        assert (changed.returncode, changed.stdout.strip()) == (
            0, "job t: bandwidth limit now 8 MiB/s"), changed.stderr
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    after = stats(job, split)
    assert len(after) >= 2, after
    assert rate(before) < 400 * 1024, before  # held at 256 KiB/s
    assert rate(after) > 2 * 1024 * 1024, after  # raised: rclone's own byte counts say so
    assert (job.dest / "big.bin").stat().st_size == SIZE
    assert not sock.exists()  # rclone's socket goes with it
    assert "warning" not in err and "success (exit 0)" in out


def test_bwlimit_without_a_running_sync(job_config, run_cli) -> None:
    job = job_config()
    r = run_cli("--config", str(job.config), "bwlimit", "1M")
    assert r.returncode == 69
    assert r.stderr.strip() == ("space-mirror: no sync of job 't' is running; a limit for every "
                                "run is the job's bwlimit key (docs/runner.md)")
    bad = run_cli("--config", str(job.config), "bwlimit", "fast")
    assert bad.returncode == 64
    assert "'fast' is not a rate like 512k" in bad.stderr and "Traceback" not in bad.stderr


def test_bad_bwlimit_key_is_one_line(job_config, run_cli) -> None:
    job = job_config(bwlimit="08:00,512k 25:00,off")
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 64
    assert r.stderr.count("\n") == 1 and "no such time of day" in r.stderr
    assert not job.log.exists()  # nothing started


def test_shared_run_folder_turns_the_remote_control_off(job_config, run_cli, make_tree,
                                                        open_base: Path) -> None:
    shared = open_base / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # like /run/lock: never narrowed, and no socket in it
    # A root run refuses a lock in a shared folder unless the job opts in (docs/security.md);
    # opted in, the remote control still stays off.
    job = job_config(lock_file=str(shared / "t.lock"), allow_shared_dirs=True)
    make_tree(job.source, {"a.txt": 100})
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 0, r.stderr
    assert "live bandwidth control is off for this run" in r.stderr
    assert "is a shared folder (mode 1777)" in r.stderr
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    assert (job.dest / "a.txt").exists()
