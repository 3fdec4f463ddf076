"""The runner's watchdog: a run that stops moving, or runs too long, is stopped.

It looks at the runner's RunState every `interval` seconds (the state the log follower
keeps) and at rclone's own counters (rc `core/stats`, where the remote control is up),
folds both into a ProgressWatch (tui/core/progress.py), and returns a Trip once
`stall_timeout` passes with no progress or the run passes `max_duration`. What to do about a
trip (the WARNING line, stopping rclone) is the runner's business.

Progress is judged from rclone itself, not from whether its lines reached the log: with the
log's file system full, rclone keeps working while its lines are lost. Then the remote
control's counters decide; without a remote control the stall verdict waits until the log
takes lines again (a full disk must not stop a healthy sync).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from tui.config import Job
from tui.core import exitcodes
from tui.core.progress import (
    ProgressWatch,
    idle_for,
    in_flight,
    observe,
    progress_key,
    stall_reason,
    stats_key,
)
from tui.core.runstate import RunState
from tui.core.stats import Stats
from tui.core.units import format_duration
from tui.core.window import seconds_until
from tui.ops import rclone_probe


@dataclass(frozen=True, slots=True)
class Trip:
    code: int  # the run's exit code
    reason: str  # for the end marker and the summary


class Watchdog:
    def __init__(self, job: Job, state: Callable[[], RunState],
                 clock: Callable[[], float] = time.monotonic,
                 rclone_stats: Callable[[], Stats | None] | None = None,
                 log_full: Callable[[], bool] = lambda: False) -> None:
        # rclone_stats: rclone's counters from its remote control (None when it did not
        # answer); None when there is no remote control. log_full: the log lost lines.
        self._rclone_stats = rclone_stats
        self._log_full = log_full
        self._rc_key: tuple[int, ...] = ()  # the last counters rclone answered with
        self.suspended = False  # the stall verdict waits for the log (full, no rc)
        self.stall_timeout = job.stall_timeout or None  # 0 turns the watchdog off
        self.max_duration = job.max_duration or None
        self._state = state
        self._clock = clock
        self._started = clock()
        self._watch = ProgressWatch()
        limits = [x for x in (self.stall_timeout, self.max_duration) if x]
        self.interval = min(5.0, max(0.2, min(limits) / 10)) if limits else 0.0
        # An rclone without `listed` in its stats (before 1.64: Debian 12's 1.60.1) shows no
        # progress while it lists: the stall clock waits for its first counter to move.
        info = rclone_probe.for_job(job) if self.stall_timeout else None
        self.waits_for_listing = info is not None and not info.caps.listed_stats

    def check(self) -> Trip | None:
        now = self._clock()
        state = self._state()
        if self._rclone_stats is not None:
            answer = self._rclone_stats()
            if answer is not None:  # a stopped rclone does not answer: its counters stand
                self._rc_key = stats_key(answer)
        self.suspended = self._log_full() and not self._rc_key
        if self.suspended:
            self._watch = ProgressWatch()  # nothing to judge by: the idle time starts again
        elif self.waits_for_listing and not any(progress_key(state)) and not self._rc_key:
            self._watch = ProgressWatch()  # still listing, as far as this rclone shows
        self._watch = observe(self._watch, state, now, self._rc_key)
        if self.max_duration and now - self._started >= self.max_duration:
            flight = ", ".join(t.name for t in in_flight(state)[:5]) or "no file"
            return Trip(exitcodes.TIMED_OUT,
                        f"ran longer than max_duration ({format_duration(self.max_duration)}); "
                        f"in flight: {flight}")
        idle = idle_for(self._watch, now)
        if self.stall_timeout and idle >= self.stall_timeout:
            return Trip(exitcodes.STALLED, stall_reason(idle, self.stall_timeout,
                                                        in_flight(state)))
        return None

    def idle(self) -> float:
        """Seconds since the run last moved, as the last `check` saw it (the live series
        publish this, so the textfile and the watchdog never disagree)."""
        return idle_for(self._watch, self._clock())


def window_flags(job: Job, now: datetime) -> list[str]:
    """rclone flags for the job's window_end: stop starting transfers at the end of the
    window and let the ones in flight finish (rclone then exits 10; before 1.64, 7: see
    exitcodes.cutoff_reason)."""
    if not job.window_end:
        return []
    return ["--max-duration", f"{seconds_until(job.window_end, now)}s", "--cutoff-mode", "soft"]


def start_timeout(job: Job) -> int | None:
    """The unit's TimeoutStartSec: the longest a run may take, plus time to stop it.
    None when no limit bounds the run (a stall is still caught by stall_timeout)."""
    limits = [x for x in (job.max_duration,) if x]
    if job.window_end:
        limits.append(24 * 3600.0)  # a window is at most a day long
    if not limits:
        return None
    return int(min(limits) + job.abort_grace + 120)
