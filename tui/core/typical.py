"""What a run usually takes, from history: the ETA shown before rclone knows its totals.

"usually 14 min (median of the last 10 similar runs)": similar means the same kind (a sync
or a dry run; verifies never count) that ended in success, so that a failed run cut short
or an aborted one does not pull the figure down. Replaced by rclone's own ETA as soon as
rclone has one (the caller decides: `usual_eta_text` returns None once `rclone_eta` is known).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tui.core.runstate import Outcome

if TYPE_CHECKING:  # a type only: the dashboard's first frame has no history model
    from tui.core.history import Run

SIMILAR = 10


def about(seconds: float) -> str:
    """A rough duration for people: `40 s`, `14 min`, `2 h 05 min`."""
    if seconds < 90:
        return f"{max(0, round(seconds))} s"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def similar_durations(runs: Sequence[Run], dry_run: bool, limit: int = SIMILAR) -> list[float]:
    """Durations of the last `limit` successful runs of the same kind (oldest first)."""
    out: list[float] = []
    for run in reversed(runs):
        if (run.outcome is Outcome.SUCCESS and run.dry_run == dry_run
                and run.mode != "verify" and run.duration_s is not None):
            out.append(run.duration_s)
            if len(out) == limit:
                break
    out.reverse()
    return out


def usual_duration(runs: Sequence[Run], dry_run: bool, limit: int = SIMILAR) -> float | None:
    durations = similar_durations(runs, dry_run, limit)
    return statistics.median(durations) if durations else None


def usual_eta_text(runs: Sequence[Run], dry_run: bool, rclone_eta: float | None = None,
             elapsed: float = 0.0, limit: int = SIMILAR) -> str | None:
    """`usually 14 min (median of the last 10 similar runs)`, or `usually 14 min, 3 min left
    (…)` once the run has been going; None when rclone has its own ETA or history has no
    similar run."""
    if rclone_eta is not None:
        return None
    durations = similar_durations(runs, dry_run, limit)
    if not durations:
        return None
    median = statistics.median(durations)
    n = len(durations)
    basis = ("the last similar run" if n == 1
             else f"median of the last {n} similar runs")
    left = ""
    if elapsed > 0:
        remaining = median - elapsed
        left = (f", {about(remaining)} left" if remaining > 0
                else ", longer than usual")
    return f"usually {about(median)}{left} ({basis})"
