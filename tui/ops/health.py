"""A job's health, for `space-mirror status`, the metrics and the dashboard's header.

The seam to the history's persistent failures (issue 12, `tui/core/history/`) is
`persistent_summary()`: until that lands it knows nothing and returns None, and every
consumer shows "unknown" rather than a made-up zero.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.config import Job


@dataclass(frozen=True, slots=True)
class Persistent:
    deletes_skipped_runs: int
    pending_deletes: int
    files: int  # files that failed in several runs in a row


def persistent_summary(job: Job) -> Persistent | None:
    """Delete debt and persistent failures from the job's history; None when unknown.
    To be wired to `tui.core.history.persistent_summary(history)` (issue 12)."""
    del job
    return None
