"""A job's health, for `space-mirror status`, the metrics and the dashboard's header.

Delete debt and persistent failures come from the job's history (`tui/core/history/
persistent.py`, read through the incremental cache); when the history cannot be read they
are None, and every consumer shows "unknown" rather than a made-up zero.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

from tui.config import Job
from tui.core import exitcodes
from tui.core.follow import last_start_offset
from tui.core.health import Facts, LastRun, last_progress
from tui.core.logline import Event, LineParser, MarkerLine, decode
from tui.core.rotation import Coverage, coverage
from tui.ops.monitor.summary import (
    DELETES_SKIPPED_RUNS,
    last_real_of,
    last_success_of,
    read_summary,
)

if TYPE_CHECKING:  # read after the first frame (tui/core/history is imported lazily)
    from tui.core.history.model import Run
    from tui.core.history.persistent import Persistent
    from tui.ops import processes


def _job_runs(job: Job, cache: Literal["user", "state"] = "user") -> Sequence[Run] | None:
    """The job's runs from its log (through the incremental cache); None when the log
    cannot be read or holds no run: unknown, never a made-up zero."""
    from tui.ops.history import load_history

    try:
        runs = load_history(job, cache=cache).runs
    except Exception:  # an unreadable log costs the figures, never the run or `status`
        return None
    return runs or None


def persistent_of(job: Job, cache: Literal["user", "state"] = "user") -> Persistent | None:
    """What repeats across the job's runs (tui/core/history/persistent.py)."""
    from tui.core.history import persistent_summary

    runs = _job_runs(job, cache)
    return None if runs is None else persistent_summary(runs)


def _history_last_run(run: Run) -> LastRun:
    return LastRun(run_id=run.id, mode=run.mode, outcome=str(run.outcome),
                   exit_code=run.exit_code,
                   ended=run.ended.timestamp() if run.ended else None, reason=run.reason,
                   stalled=run.exit_code == exitcodes.STALLED)


TAIL_BYTES = 8 * 1024 * 1024  # about an hour of rclone's stats lines


def gather(job: Job, now: float | None = None,
           find_running: Callable[[Job], processes.RunningSync | None] | None = None,
           cache: Literal["user", "state"] = "user") -> Facts:
    """What `status` needs, from the summary, the lock and the log's current run.
    `find_running`: the caller's probe (the overview's), so its rows and the model agree.
    `cache`: which history cache to read through (the runner's is its state folder)."""
    when = time.time() if now is None else now
    summary = read_summary(job.summary_path)
    # The lock for our runs; psutil for the old wrapper's rclone (during a migration).
    if find_running is None:
        from tui.ops import processes

        find_running = processes.find_running
    sync = find_running(job)
    running = None
    idle = None
    if sync is not None:
        running = (f"pid {sync.pid}, run {sync.run_id or 'legacy'}, started {sync.started}, "
                   f"by {sync.started_by}")
        idle = _no_progress_for(job, when)
    from tui.core.history import last_success, persistent_summary

    runs = _job_runs(job, cache)
    persistent = None if runs is None else persistent_summary(runs)
    skipped = summary.get(DELETES_SKIPPED_RUNS)
    # The summary is the runner's own record; a job the old wrapper ran (or a summary out of
    # reach) still has its log: the history answers then.
    good = last_success_of(summary)
    if good is None and runs is not None:
        ended = last_success(runs)
        good = ended.timestamp() if ended is not None else None
    last = _last_run(summary)
    if last is None and runs is not None:
        last = _history_last_run(runs[-1])
    return Facts(
        job=job.name, now=when, warn_after=job.warn_after, crit_after=job.crit_after,
        stall_timeout=job.stall_timeout, recorded=bool(summary) or runs is not None,
        last_success=good, last_run=last, running=running, no_progress_for=idle,
        deletes_skipped_runs=(persistent.deletes_skipped_runs if persistent
                              else skipped if isinstance(skipped, int) else 0),
        pending_deletes=persistent.pending_deletes if persistent else None,
        failures=persistent.files if persistent else None,
        coverage=_verify_coverage(job, when),
        last_real=last_real(summary),
    )


def _verify_coverage(job: Job, now: float) -> Coverage | None:
    from tui.ops.verify_state import read_rotation

    state = read_rotation(job)
    return None if state is None else coverage(state, now)


def last_real(summary: dict[str, object]) -> LastRun | None:
    """The last real sync, when the summary's own run was a dry run (else None: the last
    run is the real one)."""
    if not summary or summary.get("mode") == "sync":
        return None
    real = last_real_of(summary)
    return None if real is None else _last_run({**real, "mode": "sync"})


def last_real_of_job(job: Job) -> LastRun | None:
    """For the dashboard's state line after a dry run: the last real sync (the summary's
    own run when it was one: read just after a dry run ended, before its summary is
    written, that is still the right answer)."""
    real = last_real_of(read_summary(job.summary_path))
    return None if real is None else _last_run({**real, "mode": "sync"})


def _last_run(summary: dict[str, object]) -> LastRun | None:
    if not summary:
        return None
    code = summary.get("exit_code")
    ended = summary.get("ended")
    run_id, reason = summary.get("run_id"), summary.get("reason")
    partials = summary.get("partials_left")
    return LastRun(run_id=run_id if isinstance(run_id, str) else None,
                   mode=str(summary.get("mode", "?")), outcome=str(summary.get("outcome", "?")),
                   exit_code=code if isinstance(code, int) else None,
                   ended=float(ended) if isinstance(ended, (int, float)) else None,
                   reason=reason if isinstance(reason, str) else None,
                   stalled=summary.get("stalled") is True,
                   partials_left=partials if isinstance(partials, int)
                   and not isinstance(partials, bool) else None)


def _no_progress_for(job: Job, now: float) -> float | None:
    """Seconds since the running run's counters last moved, read from the log."""
    offset = last_start_offset(job.log_file, max_scan=64 * 1024 * 1024)
    if offset is None:
        return None
    parser = LineParser()
    events: list[Event] = []
    try:
        with open(job.log_file, "rb") as fh:
            size = fh.seek(0, 2)
            fh.seek(max(offset, size - TAIL_BYTES))
            if fh.tell() > offset:
                fh.readline()  # a long run: only its tail, from a whole line
            for raw in fh:
                events.extend(parser.feed(decode(raw)))
    except OSError:
        return None
    events.extend(parser.flush())
    first = events[0] if events else None
    started = first.marker.time if isinstance(first, MarkerLine) else None
    moved = last_progress(events, started)
    return None if moved is None else max(0.0, now - moved.timestamp())
