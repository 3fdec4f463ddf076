"""The version matrix (issue 19): each case runs `space-mirror` (a subprocess) with the job's
`rclone` key naming the bundled rclone (1.75.2), then Debian 12's 1.60.1 (the floor of the
supported range, unpacked by `make test`, never on PATH). Real rclone, real local files.

Each case is a row of the issue's table: on the old code the 1.60.1 row failed (a run that
exited 1 at once, a reason that said no partial file remained, `2 deleted` for 1, exit 7
read as an auth failure, `rename 0` in plan, NOTICE shown as WARNING).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sm_testkit import REPO, JobFiles, debian_rclone, free_port, port_open, wait_until

from tui.core.logline import LogRecord, parse_line

MB = 1024 * 1024


def is_old(rclone: Path) -> bool:
    return "rclone-debian" in str(rclone)


def start_run(cli_env: dict[str, str], job: JobFiles) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tui", "--config", str(job.config), "run"],
                            env=cli_env, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd=str(REPO))


def summary(job: JobFiles) -> dict[str, object]:
    data: dict[str, object] = json.loads(job.summary.read_text())
    return data


def test_run_without_remote_control_still_syncs_and_bwlimit_says_why(
        any_rclone: Path, job_config, run_cli, cli_env) -> None:
    job = job_config(rclone=str(any_rclone), bwlimit="256k")
    (job.source / "a.bin").write_bytes(os.urandom(3 * MB))  # 12 s at 256k
    proc = start_run(cli_env, job)
    try:
        # The limiter line: rclone runs, and holds the job's lock.
        wait_until(lambda: "Starting bandwidth limiter" in job.log_text()
                   or proc.poll() is not None, 30, "rclone to start")
        assert proc.poll() is None, proc.communicate()
        if not is_old(any_rclone):
            wait_until(lambda: job.lock.with_name(f"{job.lock.stem}.rc.sock").exists()
                       or proc.poll() is not None, 30, "the rc socket")
        shown = run_cli("--config", str(job.config), "bwlimit")
        if is_old(any_rclone):
            assert shown.returncode == 69
            assert shown.stderr.count("\n") == 1, shown.stderr
            assert "cannot serve its remote control on a unix socket" in shown.stderr
            assert "v1.60.1" in shown.stderr and "Traceback" not in shown.stderr
        else:
            assert (shown.returncode, shown.stdout.strip()) == (
                0, "job t: bandwidth limit 256 KiB/s"), shown.stderr
            assert run_cli("--config", str(job.config), "bwlimit", "8M").returncode == 0
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err  # 1.60.1: was exit 1, "Failed to start remote control"
    assert (job.dest / "a.bin").stat().st_size == 3 * MB
    assert "Starting bandwidth limiter at 256Ki" in job.log_text()  # the key still applies
    if is_old(any_rclone):
        assert "live bandwidth control is off for this run: rclone v1.60.1" in err
    else:
        assert "warning" not in err


def test_cut_short_files_are_counted_by_what_is_really_there(
        any_rclone: Path, job_config, run_cli) -> None:
    size = 3 * MB
    job = job_config(rclone=str(any_rclone), bwlimit="1M", max_duration=2,
                     flags=["--transfers", "4"])
    for i in range(3):
        (job.source / f"f{i}.bin").write_bytes(os.urandom(size))
    r = run_cli("--config", str(job.config), "run", timeout=90)
    assert r.returncode == 124, r.stderr
    files = [p for p in job.dest.rglob("*") if p.is_file()] if job.dest.exists() else []
    partial = sum(p.name.endswith(".partial") for p in files)
    cut_short = sum(not p.name.endswith(".partial") and p.stat().st_size != size
                    for p in files)
    if is_old(any_rclone):
        # 1.60.1 writes in place: the files in flight stay, cut short, under real names.
        assert cut_short > 0 and partial == 0, files
        expected = (f"{cut_short} files cut short remain under their real names at the "
                    "destination (the next run replaces them)" if cut_short > 1 else
                    "1 file cut short remains under its real name at the destination (the "
                    "next run replaces them)")
    else:
        assert (partial, cut_short) == (0, 0), files
        expected = "no partial file remains at the destination"
    reason = str(summary(job)["reason"])
    assert expected in reason, reason  # 1.60.1 was: "no partial file remains"
    assert expected in r.stdout


def test_window_cutoff_is_read_per_version(any_rclone: Path, job_config, run_cli) -> None:
    # What window_end passes (tui/ops/run/watchdog.window_flags), with a 2 s window.
    job = job_config(rclone=str(any_rclone), bwlimit="1M",
                     flags=["--transfers", "2", "--max-duration", "2s", "--cutoff-mode", "soft"])
    for i in range(6):
        (job.source / f"f{i}.bin").write_bytes(os.urandom(1_500_000))
    r = run_cli("--config", str(job.config), "run", timeout=90)
    # rclone's own code: 1.60.1 has no exit 10 and ends the cutoff with 7.
    assert r.returncode == (7 if is_old(any_rclone) else 10), r.stderr
    reason = str(summary(job)["reason"])
    assert reason.startswith("the window ended (rclone's --max-duration)"), reason
    assert "auth" not in reason.replace("not an auth", "") and "Fatal error" not in reason
    assert ("has no exit 10" in reason) == is_old(any_rclone), reason


def test_max_delete_stop_counts_the_deletes_rclone_made(
        any_rclone: Path, job_config, run_cli) -> None:
    job = job_config(rclone=str(any_rclone), max_delete=1)
    for name in ("a", "b", "c", "d"):
        (job.source / f"{name}.txt").write_text(name * 10)
    first = run_cli("--config", str(job.config), "run")
    assert first.returncode == 0, first.stderr
    for name in ("x", "y"):  # two deletes due, one allowed
        (job.dest / f"{name}.txt").write_text(name)
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 7, r.stderr
    deleted = 2 - sum((job.dest / f"{n}.txt").exists() for n in ("x", "y"))
    assert deleted == 1  # rclone stopped at the cap
    # 1.60.1's stats say deletes=2: the run said "2 deleted … 2 of 1 deletes allowed".
    assert f", {deleted} deleted," in r.stdout, r.stdout
    assert summary(job)["deletes"] == deleted
    assert f"max-delete guard reached, {deleted} of 1 deletes allowed" in str(
        summary(job)["reason"])


def test_renames_in_plan_and_run(any_rclone: Path, job_config, run_cli) -> None:
    job = job_config(rclone=str(any_rclone))
    (job.source / "a.txt").write_text("the same bytes, a new name\n")
    (job.source / "keep.txt").write_text("stays\n")
    assert run_cli("--config", str(job.config), "run").returncode == 0
    (job.source / "a.txt").rename(job.source / "a2.txt")
    plan = run_cli("--config", str(job.config), "plan")
    assert plan.returncode == 0, plan.stderr
    # 1.60.1 logs its dry-run move without a target: was `rename 0` and "1 skipped action".
    assert "rename        1 file(s)" in plan.stdout, plan.stdout
    assert "a.txt → a2.txt" in plan.stdout
    assert "skipped action" not in plan.stdout + plan.stderr
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 0, r.stderr
    assert ", 1 renamed," in r.stdout and summary(job)["renames"] == 1
    assert sorted(p.name for p in job.dest.iterdir()) == ["a2.txt", "keep.txt"]


def test_rclone_notices_are_notices(any_rclone: Path, job_config, run_cli) -> None:
    job = job_config(rclone=str(any_rclone))
    (job.source / "new.txt").write_text("new\n")
    r = run_cli("--config", str(job.config), "run", "--dry-run")
    assert r.returncode == 0, r.stderr
    records = [e for ln in job.log_text().splitlines() if ln.startswith("{")
               for e in [parse_line(ln)] if isinstance(e, LogRecord)]
    skipped = [e for e in records if e.skipped == "copy"]
    assert skipped and all(e.level == "NOTICE" for e in skipped), skipped
    assert not [e for e in records if e.level == "WARNING"]  # rclone has no WARNING level


def test_check_lists_what_degrades_with_the_job_s_rclone(
        any_rclone: Path, job_config, run_cli) -> None:
    job = job_config(rclone=str(any_rclone))
    (job.source / "a.txt").write_text("a")
    r = run_cli("--config", str(job.config), "check")
    assert r.returncode == 0, r.stdout + r.stderr
    first = next(ln for ln in r.stdout.splitlines() if ln.startswith("✓ rclone:"))
    degraded = [ln for ln in r.stdout.splitlines() if ln.startswith("✓ rclone: degraded:")]
    if is_old(any_rclone):
        assert first == (f"✓ rclone: {any_rclone} (v1.60.1-DEV, the job's rclone key; the "
                         "bundled one is v1.75.2)")
        text = "\n".join(degraded)
        for needle in ("cannot serve its remote control", "writes local files in place",
                       "exits 7, not 10", "prints no `listed` count",
                       "logs a dry-run move without its target"):
            assert needle in text, text
    else:
        assert first == f"✓ rclone: {any_rclone} (v1.75.2, bundled)"
        assert degraded == []


def test_debian_rclone_first_on_path_is_not_what_runs(
        rclone_bin: Path, job_config, run_cli, cli_env, tmp_path: Path) -> None:
    """With Debian's rclone first on PATH (apt's /usr/bin/rclone) and no rclone key, the
    runner runs the bundled rclone by absolute path; `check` names it and the PATH one."""
    bindir = tmp_path / "apt-bin"
    bindir.mkdir()
    (bindir / "rclone").symlink_to(debian_rclone())
    env = {"PATH": f"{bindir}:{cli_env['PATH']}"}
    job = job_config()
    (job.source / "a.txt").write_text("a")
    check = run_cli("--config", str(job.config), "check", env=env)
    assert check.returncode == 0, check.stdout
    assert (f"✓ rclone: {rclone_bin} (v1.75.2, bundled); not the {bindir / 'rclone'} on PATH"
            in check.stdout), check.stdout
    r = run_cli("--config", str(job.config), "run", env=env)
    assert r.returncode == 0, r.stderr  # was 1: 1.60.1 cannot serve rc on a unix socket
    start = next(ln for ln in job.log_text().splitlines() if "rclone_version=" in ln)
    assert 'rclone_version="v1.75.2"' in start or "rclone_version=v1.75.2" in start, start
    assert summary(job)["rclone_version"] == "v1.75.2"
    assert 'space_mirror_rclone_info{job="t",version="v1.75.2"} 1' in job.metrics.read_text()


@pytest.mark.parametrize("version", ["v1.59.0"])
def test_an_rclone_older_than_the_floor_is_refused(
        version: str, job_config, run_cli, tmp_path: Path) -> None:
    # Only `rclone version`'s first line matters here: no sync runs with it.
    old = tmp_path / "old-rclone"
    old.write_text(f"#!/bin/sh\necho 'rclone {version}'\n")
    old.chmod(0o755)
    job = job_config(rclone=str(old))
    (job.source / "a.txt").write_text("a")
    r = run_cli("--config", str(job.config), "check")
    assert r.returncode != 0
    line = next(ln for ln in r.stdout.splitlines() if ln.startswith("✗ rclone:"))
    assert line == (f"✗ rclone: {old}: rclone {version} is older than v1.60.1, the oldest this "
                    "runner supports (Debian 12's) — fix: remove the job's `rclone` key to run "
                    "the bundled rclone, or install a newer one")
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 78 and "Traceback" not in r.stderr


@pytest.fixture
def webdav_source(tmp_path: Path, rclone_bin: Path, cli_env: dict[str, str]) -> Iterator[str]:
    """`rclone serve webdav` (the bundled rclone) on 127.0.0.1 over 20 folders: listed one
    request each, so `--tpslimit 3` makes a listing of about 7 s."""
    root = tmp_path / "dav"
    for i in range(20):
        (root / f"d{i:02}").mkdir(parents=True)
        (root / f"d{i:02}" / "f.txt").write_text(f"file {i}\n")
    port = free_port()
    proc = subprocess.Popen([str(rclone_bin), "serve", "webdav", "--addr", f"127.0.0.1:{port}",
                             str(root)], env=cli_env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: port_open(port) or proc.poll() is not None, 20, "rclone serve webdav")
        assert proc.poll() is None
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait()


def test_a_slow_listing_is_not_a_stall(any_rclone: Path, job_config, run_cli,
                                       webdav_source: str) -> None:
    # --check-first: rclone lists everything before its first check or transfer, so for
    # ~7 s only `listed` moves, and 1.60.1 prints no `listed` (it was stopped at 3 s, exit 79).
    job = job_config(rclone=str(any_rclone), source=":webdav:", stall_timeout=3,
                     env={"RCLONE_WEBDAV_URL": webdav_source},
                     flags=["--check-first", "--tpslimit", "3"])
    r = run_cli("--config", str(job.config), "run", timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(list(job.dest.rglob("f.txt"))) == 20
    log = job.log_text()
    stats = [json.loads(ln)["stats"] for ln in log.splitlines()
             if ln.startswith("{") and '"stats":{' in ln]
    listing = [s for s in stats if not (s["checks"] or s["transfers"] or s["bytes"])]
    assert max(s["elapsedTime"] for s in listing) > 3  # the listing outlasted stall_timeout
    assert all(("listed" in s) != is_old(any_rclone) for s in stats)
