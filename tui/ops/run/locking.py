"""The job's lock, taken the same way by every command that starts rclone (run, verify,
plan): the run folder (0700) and the lock file inside it, both flocked; a holder that is no
runner of this job, or that has held the lock longer than a run may take, is named, logged and
written to the metrics instead of passing as "already running"."""

from __future__ import annotations

import os
import time

from tui.config import Job
from tui.core import exitcodes
from tui.core.markers import now
from tui.core.units import format_duration
from tui.ops import lock, processes
from tui.ops.monitor import prom
from tui.ops.run.journal import Journal

LOCK_RACE_RETRIES = 5
STUCK_LOCK_DEFAULT = 86400.0  # a lock older than this (or max_duration) fails the unit


def record_for(job_name: str, run_id: str, mode: str, log: str, started_by: str,
               ) -> lock.LockRecord:
    return lock.LockRecord(
        pid=os.getpid(), pid_start=processes.create_time(os.getpid()), run_id=run_id,
        job=job_name, mode=mode, log=log, started=now().isoformat(timespec="seconds"),
        started_by=started_by)


def acquire(job: Job, record: lock.LockRecord, journal: Journal,
            not_doing: str = "not starting another") -> lock.HeldLock | int:
    """The held lock, or the exit code to return (75 held, 69 stuck, 78 unusable);
    `not_doing` ends the refusal's line ("not verifying now")."""
    got: lock.HeldLock | lock.LockRecord | None = None
    try:
        for _ in range(LOCK_RACE_RETRIES):
            got = lock.try_acquire(job.lock_path, record, folder_lock=job.lock_file is None)
            if got is not None:
                break
            time.sleep(0.05)  # the holder ended between our two looks; try again
    except lock.LockError as exc:
        journal.complain(f"{exc}; fix: run as root, or set run_dir to a folder only you can "
                         "write")
        return exitcodes.CONFIG
    if isinstance(got, lock.HeldLock):
        prom.clear_lock_metrics(job.metrics_path)
        return got
    return locked_out(job, journal, not_doing)


def locked_out(job: Job, journal: Journal, not_doing: str = "not starting another") -> int:
    holder = lock.inspect(job.lock_path)
    age = max(0.0, time.time() - holder.since) if holder and holder.since else 0.0
    limit = job.max_duration or STUCK_LOCK_DEFAULT
    foreign = holder is None or holder.problem is not None
    who = holder.describe() if holder else "holder unknown: the lock folder is held"
    stuck = age > limit
    if not (foreign or stuck):
        mode = holder.record.mode if holder and holder.record else "sync"
        kind = "sync" if mode in ("sync", "?") else mode
        journal.complain(f"a {kind} of job {job.name!r} is already running ({who}); "
                         f"{not_doing}")
        return exitcodes.LOCKED
    what = (f"lock {job.lock_path} held for {format_duration(age)} ({who})"
            + (f", longer than the job's maximum duration {format_duration(limit)}"
               if stuck else ""))
    journal.complain(f"{what}; not starting; fix: `space-mirror check` names the holder")
    journal.append(f"[{now().isoformat(timespec='seconds')}] space-mirror lock: {what}",
                   fresh_line=True)
    for warning in prom.write_lock_metrics(job.metrics_path, job.name, age, foreign, stuck):
        journal.warn(warning)
    return exitcodes.UNAVAILABLE if stuck else exitcodes.LOCKED

