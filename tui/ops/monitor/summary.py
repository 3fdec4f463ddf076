"""The JSON summary a run leaves beside its metrics (tui/ops/monitor/metrics.py writes it):
the fields that outlive a run, and how they are read back.

Apart from the metrics' writers, which the dashboard's first frame does not need: it shows
when the last real sync succeeded, and reads that here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from tui.core.units import count

# Fields of the JSON summary that outlive a run: each run carries them over (see carry()).
LAST_SUCCESS = "last_success_ended"  # unix time a real sync last succeeded
DELETES_SKIPPED_RUNS = "deletes_skipped_runs"  # real runs in a row that skipped deletes
# The last real sync's outcome, exit code and end: a dry run since must not hide it.
LAST_REAL = "last_real_run"


def carry(previous: Mapping[str, object], *, mode: str, outcome: str, ended: float,
          ran_rclone: bool, deletes_skipped: bool) -> dict[str, object]:
    """The summary fields that carry over: the last success's time (set only by a real
    sync that succeeded), and how many real runs in a row rclone skipped deletes because
    of I/O errors (+1 for such a run, 0 after a run that did not, unchanged when rclone
    did not run or it was a dry run)."""
    last = last_success_of(previous)
    skipped = count(previous.get(DELETES_SKIPPED_RUNS)) or 0
    real = last_real_of(previous)
    if mode == "sync":
        if outcome == "success":
            last = ended
        if ran_rclone:
            skipped = skipped + 1 if deletes_skipped else 0
        real = None  # this run is the last real one: its own fields say it
    out: dict[str, object] = {LAST_SUCCESS: last, DELETES_SKIPPED_RUNS: skipped}
    if real is not None:
        out[LAST_REAL] = real
    return out


def last_real_of(summary: Mapping[str, object]) -> dict[str, object] | None:
    """The last real sync's {outcome, exit_code, ended, run_id, stalled}: the summary's own
    run when it was one, else what a dry run since carried over (None: unknown)."""
    if summary.get("mode") == "sync":
        return {k: summary.get(k) for k in ("outcome", "exit_code", "ended", "run_id",
                                            "stalled")}
    real = summary.get(LAST_REAL)
    return real if isinstance(real, dict) else None


def last_success_of(summary: Mapping[str, object]) -> float | None:
    """The last success a summary records. A summary written before this field existed
    still tells it when its own run was a successful real sync."""
    value = summary.get(LAST_SUCCESS)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    ended = summary.get("ended")
    if (LAST_SUCCESS not in summary and summary.get("outcome") == "success"
            and summary.get("mode") == "sync" and isinstance(ended, (int, float))):
        return float(ended)
    return None


def read_summary(path: Path) -> dict[str, object]:
    """The last run's JSON summary, or {} when there is none (or it is unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def last_success_time(summary_path: Path) -> datetime | None:
    """For the dashboard's first frame: when the last real sync succeeded, by the summary
    (cheap). The history's answer, for a job with no summary, follows with the dashboard's
    history read (StatusPanel), as tui/ops/health.py's `gather` gives it."""
    value = last_success_of(read_summary(summary_path))
    return None if value is None else datetime.fromtimestamp(value, UTC)
