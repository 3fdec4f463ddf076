"""Issue 18 (and issue 20, row 2): `verify` runs rclone through the run engine, so it writes
its log and takes its lock the way `run` does. Before, it had its own runner: it opened the
job log with a plain open (following a symlink another user planted, and creating a
dangling link's target as root), and created its run folder 0755."""

from __future__ import annotations

import stat
from pathlib import Path

from .conftest import as_nobody, root_secret


def test_verify_refuses_a_symlinked_log_without_touching_its_target(
        sec_job, open_folder, run_cli, reachable) -> None:
    shared = open_folder("logs", 0o777)
    target = root_secret(reachable)
    job = sec_job(log_file=str(shared / "mirror.log"))
    (job.source / "a").write_text("a")
    assert as_nobody("ln", "-s", str(target), str(shared / "mirror.log")).returncode == 0
    r = run_cli("--config", str(job.config), "verify")
    assert r.returncode == 78, (r.stdout, r.stderr)
    assert target.read_text() == "root's precious content\n"  # no marker appended to it
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert "Traceback" not in r.stderr


def test_verify_never_creates_a_dangling_links_target(sec_job, open_folder, run_cli,
                                                      reachable) -> None:
    shared = open_folder("logs", 0o777)
    planted = reachable / "created-by-root"
    job = sec_job(log_file=str(shared / "mirror.log"))
    (job.source / "a").write_text("a")
    assert as_nobody("ln", "-s", str(planted), str(shared / "mirror.log")).returncode == 0
    r = run_cli("--config", str(job.config), "verify")
    assert r.returncode == 78, (r.stdout, r.stderr)
    assert not planted.exists() and not planted.is_symlink()


def test_verify_creates_its_run_folder_0700(sec_job, run_cli, reachable: Path) -> None:
    run_dir = reachable / "run-t"
    job = sec_job(lock_file=None, run_dir=str(run_dir))
    (job.source / "a").write_text("a")
    r = run_cli("--config", str(job.config), "verify")
    assert r.returncode in (0, 1), (r.stdout, r.stderr)  # 1: the empty mirror differs
    assert stat.S_IMODE(run_dir.stat().st_mode) == 0o700
