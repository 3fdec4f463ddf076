"""Live series while a sync runs: every `metrics_interval` seconds the job's textfile is
rewritten (atomically, through the one renderer) with the run's progress, so a fleet view
and the "stalled on any host" alert see a long sync move, or stop moving.

The file keeps every other series as it was (the last run's, run_in_progress 1); only the
series named in LIVE_NAMES are replaced. The end-of-run textfile drops them again.

The time since progress is the run's watchdog's (tui/ops/run/watchdog.py: the same clock
that stops the run, rclone's remote control included when the log's disk is full); the time
of the last progress is exported as a unix timestamp, so Prometheus can tell its age even when
a runner dies and stops rewriting the file.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from tui.config import Job
from tui.core.runstate import RunState
from tui.ops import rclone_probe, safefile
from tui.ops.monitor import metrics, prom
from tui.ops.monitor.metrics import Sample

_HELP = {
    "run_bytes_done": "Bytes transferred so far by the run in progress.",
    "run_bytes_total": "Bytes the run in progress will transfer (rclone's estimate).",
    "run_files_done": "Files transferred so far by the run in progress.",
    "run_files_total": "Files the run in progress will transfer (rclone's estimate).",
    "run_speed_bytes_per_second": "Transfer speed of the run in progress.",
    "run_eta_seconds": "rclone's estimate of the time left in the run in progress.",
    "run_seconds_since_progress": "Seconds since the run's counters last moved, when written.",
    "run_last_progress_timestamp_seconds": "When the run's counters last moved, unix time.",
    "run_updated_timestamp_seconds": "When these live series were written, unix time.",
    "run_stall_timeout_seconds": "The job's stall_timeout: no progress for this long stops "
                                 "the run (0: never).",
    "warn_after_seconds": "The job's warn_after: a last success older than this warns.",
    "crit_after_seconds": "The job's crit_after: a last success older than this is critical.",
}
LIVE_NAMES = (*(f"space_mirror_{n}" for n in _HELP), "space_mirror_rclone_info")
# The job's thresholds, also kept in the end-of-run textfile (settings_samples).
SETTINGS = ("warn_after_seconds", "crit_after_seconds", "run_stall_timeout_seconds")



def settings_samples(job: Job) -> list[Sample]:
    """The job's thresholds, which a fleet view judges the job's series by."""
    return [
        ("warn_after_seconds", _HELP["warn_after_seconds"], job.warn_after, ""),
        ("crit_after_seconds", _HELP["crit_after_seconds"], job.crit_after, ""),
        ("run_stall_timeout_seconds", _HELP["run_stall_timeout_seconds"], job.stall_timeout, ""),
    ]


def live_samples(job: Job, state: RunState, idle: float, wall_now: float,
                 version: str | None) -> list[Sample]:
    """The run's progress now. rclone's totals are absent (not 0) before its first stats."""
    s = state.stats
    out: list[Sample] = []
    if s is not None:
        out += [
            ("run_bytes_done", _HELP["run_bytes_done"], s.bytes, ""),
            ("run_bytes_total", _HELP["run_bytes_total"], s.total_bytes, ""),
            ("run_files_done", _HELP["run_files_done"], s.transfers, ""),
            ("run_files_total", _HELP["run_files_total"], s.total_transfers, ""),
            ("run_speed_bytes_per_second", _HELP["run_speed_bytes_per_second"], s.speed, ""),
            ("run_eta_seconds", _HELP["run_eta_seconds"], s.eta, ""),
        ]
    out += [
        ("run_seconds_since_progress", _HELP["run_seconds_since_progress"], idle, ""),
        ("run_last_progress_timestamp_seconds", _HELP["run_last_progress_timestamp_seconds"],
         wall_now - idle, ""),
        ("run_updated_timestamp_seconds", _HELP["run_updated_timestamp_seconds"], wall_now, ""),
        *settings_samples(job),
    ]
    if version:
        out.append(metrics.rclone_info(version))
    return out


def merged_text(previous: str, job: str, samples: list[Sample]) -> str:
    """`previous` less its live series, plus `samples` rendered by metrics' renderer."""
    kept = [line for line in previous.splitlines()
            if line and not any(metrics.names_metric(line, n) for n in LIVE_NAMES)]
    return "\n".join([*kept, prom.render(job, samples).rstrip("\n")]) + "\n"


class LiveMetrics:
    """Rewrites the job's textfile with the live series; `publish()` until cancelled."""

    def __init__(self, job: Job, state: Callable[[], RunState], rclone: Path | str,
                 idle: Callable[[], float], wall: Callable[[], float] = time.time) -> None:
        self.job = job
        self._state = state
        self._rclone = rclone
        self._idle = idle  # seconds since progress, as the run's watchdog counts them
        self._wall = wall
        self.version: str | None = None
        self.problem: str | None = None  # the last write's failure, said once by the caller

    def write(self) -> None:
        samples = live_samples(self.job, self._state(), self._idle(), self._wall(),
                               self.version)
        path = self.job.metrics_path
        try:
            previous = (safefile.read_private(path) or b"").decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.problem = f"could not read {path}: {exc}"
            return
        self.problem = prom.write(path, merged_text(previous, self.job.name, samples))

    async def publish(self, complain: Callable[[str], None], mode: str) -> None:
        """Write now, then every metrics_interval; a failed write is said once. A dry run
        leaves the textfile alone (as tui/ops/monitor/metrics.py's write_metrics does)."""
        if not self.job.metrics_interval or mode != "sync":
            return
        said = False
        first = True
        while True:
            # At once: the series of an earlier run that died must not stand for this one.
            self.write()
            if self.problem and not said:
                said = True
                complain(f"warning: live metrics: {self.problem}")
            if first:
                first = False
                self.version = await asyncio.to_thread(rclone_probe.version_text,
                                                       Path(self._rclone))
                continue
            await asyncio.sleep(self.job.metrics_interval)
