"""`space-mirror status`: one line, Nagios exit codes 0-3, each case from real files (a
summary, a held lock, a log with rclone's stats lines). Times are relative to an injected
`now`, never the real date."""

from __future__ import annotations

import io
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tui.config import Job
from tui.core import units
from tui.ops import lock
from tui.status_cli import status_command

NOW = 1_900_000_000.0
H = 3600.0


def job_at(tmp_path: Path, **kw: object) -> Job:
    return Job(name="t", source=str(tmp_path / "src"), destination=str(tmp_path / "dst"),
               log_file=tmp_path / "log", lock_file=tmp_path / "lock",
               summary_file=tmp_path / "s.json", metrics_file=tmp_path / "m.prom",
               env_file=None, **kw)  # type: ignore[arg-type]


def summary(job: Job, *, success_age: float | None, outcome: str = "success", code: int = 0,
            mode: str = "sync", **extra: object) -> None:
    data = {"job": "t", "run_id": "r9", "mode": mode, "started": NOW - 100, "ended": NOW - 50,
            "exit_code": code, "outcome": outcome, "reason": None if code == 0 else "why",
            "last_success_ended": None if success_age is None else NOW - success_age,
            "deletes_skipped_runs": 0, **extra}
    job.summary_path.write_text(json.dumps(data))


def status(job: Job, as_json: bool = False) -> tuple[int, str]:
    out = io.StringIO()
    code = status_command(job, as_json=as_json, now=NOW, out=out)
    return code, out.getvalue()


def test_ok(tmp_path: Path) -> None:
    job = job_at(tmp_path)
    summary(job, success_age=3 * H)
    code, line = status(job)
    assert code == 0, line
    assert line.startswith("SPACE-MIRROR OK - t: mirror healthy (last success 3 h ago, "
                           "last run success (exit 0), not running")
    assert line.rstrip().endswith("| age=10800s;93600;180000;0")


def test_warning_past_warn_after_and_after_a_failed_run(tmp_path: Path) -> None:
    job = job_at(tmp_path)
    summary(job, success_age=27 * H)
    code, line = status(job)
    assert code == 1 and "last success 27 h ago, over 26 h" in line, line
    summary(job, success_age=2 * H, outcome="failed", code=5)
    code, line = status(job)
    assert code == 1 and "last run failed (exit 5)" in line, line
    # A failed dry run says nothing about the mirror.
    summary(job, success_age=2 * H, outcome="failed", code=5, mode="dry-run")
    assert status(job)[0] == 0
    summary(job, success_age=2 * H, deletes_skipped_runs=3)
    code, line = status(job)
    assert code == 1 and "deletes skipped in 3 runs in a row" in line


def test_critical_past_crit_after_or_never_succeeded(tmp_path: Path) -> None:
    job = job_at(tmp_path, warn_after=H, crit_after=2 * H)
    summary(job, success_age=2.5 * H, outcome="failed", code=7)
    code, line = status(job)
    assert code == 2 and line.startswith("SPACE-MIRROR CRITICAL - t: last success 2.5 h ago,"
                                         " over 2 h; last run failed (exit 7)"), line
    summary(job, success_age=None, outcome="failed", code=3)
    code, line = status(job)
    assert code == 2 and "no successful sync recorded" in line


def test_unknown_when_nothing_is_recorded(tmp_path: Path) -> None:
    code, line = status(job_at(tmp_path))
    assert code == 3 and line == ("SPACE-MIRROR UNKNOWN - t: no run of this job is recorded "
                                  "yet (not running)\n")


def stats_line(when: float, transferred: int) -> str:
    stamp = datetime.fromtimestamp(when, UTC).isoformat().replace("+00:00", "Z")
    stats = {"bytes": transferred, "totalBytes": 10_000_000, "speed": 0, "eta": None,
             "transfers": 0, "totalTransfers": 1, "checks": 0, "listed": 1,
             "transferring": [{"name": "big.bin", "size": 10_000_000, "bytes": transferred,
                               "percentage": 50, "speed": 0, "eta": None}]}
    return json.dumps({"time": stamp, "level": "info", "msg": "stats", "stats": stats,
                       "source": "accounting/stats.go:549"})


def held_lock(job: Job, tmp_path: Path) -> lock.HeldLock:
    record = lock.LockRecord(pid=os.getpid(), run_id="r10", job="t", mode="sync",
                             log=str(job.log_file), started="2030-01-01T03:00:00+00:00",
                             started_by="timer")
    got = lock.try_acquire(job.lock_path, record)
    assert isinstance(got, lock.HeldLock)
    return got


@pytest.mark.parametrize(("moved_ago", "expected", "words"), [
    (5.0, 0, "running (pid"),
    (4 * 60 + 12, 1, "running, no progress for 4 min"),
    (40 * 60, 2, "running, stalled: no progress for 40 min"),
])
def test_running_and_stalled(tmp_path: Path, moved_ago: float, expected: int,
                             words: str) -> None:
    job = job_at(tmp_path)
    summary(job, success_age=20 * H)
    start = datetime.fromtimestamp(NOW - 3 * H, UTC).isoformat(timespec="seconds")
    lines = [f"[{start}] Starting Space Mirror... run=r10 job=t mode=sync pid=1 by=timer",
             stats_line(NOW - 3 * H + 1, 1000),
             stats_line(NOW - moved_ago, 5_000_000)]
    # rclone keeps printing the same numbers while it is stuck: that is not progress.
    lines += [stats_line(NOW - moved_ago + i, 5_000_000) for i in range(1, 60)
              if moved_ago - i > 0]
    job.log_file.write_text("\n".join(lines) + "\n")
    held = held_lock(job, tmp_path)
    try:
        code, line = status(job)
        data = json.loads(status(job, as_json=True)[1])
    finally:
        held.release()
    assert code == expected, line
    assert words in line
    assert data["running"] is True and "run r10" in data["lock_holder"]
    assert data["no_progress_for_s"] == pytest.approx(moved_ago, abs=1)
    # Issue 22: stalled (what the dashboard shows STALLED) after 10 s without progress;
    # CRITICAL only once stall_timeout passes.
    assert data["stalled"] is (expected >= 1)


def test_json_fields(tmp_path: Path) -> None:
    job = job_at(tmp_path)
    summary(job, success_age=30 * H, outcome="failed", code=79)
    code, text = status(job, as_json=True)
    data = json.loads(text)
    assert code == 1 and data["status"] == "WARNING" and data["exit_code"] == 1
    assert data["last_success_age_s"] == 30 * H
    assert data["last_run"]["exit_code"] == 79 and data["running"] is False
    assert data["persistent_failed_files"] is None  # unknown: the log holds no run


def test_age_text() -> None:
    assert [units.age_text(s) for s in (5, 200, 7300, 9000, 27 * H)] == [
        "5 s", "3 min", "2 h", "2.5 h", "27 h"]


def test_cli_status_exit_codes(job_config, run_cli) -> None:
    import time

    job = job_config(warn_after=3600, crit_after=7200)
    # Under faketime, the CLI must see the clock this test sees (run_cli's env is clean).
    same_clock = {k: v for k, v in os.environ.items()
                  if k.startswith("FAKETIME") or k in ("LD_PRELOAD", "DYLD_INSERT_LIBRARIES")}
    r = run_cli("--config", str(job.config), "status", env=same_clock)
    assert r.returncode == 3 and r.stdout.startswith("SPACE-MIRROR UNKNOWN"), r
    # Relative to this machine's clock (faketime or not): 90 min ago is past warn_after.
    data = {"mode": "sync", "outcome": "success", "exit_code": 0, "ended": time.time() - 5400,
            "last_success_ended": time.time() - 5400}
    job.summary.write_text(json.dumps(data))
    r = run_cli("--config", str(job.config), "status", "--json", env=same_clock)
    assert r.returncode == 1 and json.loads(r.stdout)["status"] == "WARNING", r
    r = run_cli("--config", str(job.base / "missing.toml"), "status")
    assert r.returncode == 3 and r.stdout.startswith("SPACE-MIRROR UNKNOWN - config file")
    assert "Traceback" not in r.stderr
