"""The dashboard's reason for a failed run: the main class, its count and its example, then
the remedy (issue 15); never rclone's `Attempt N/M failed with K errors` summary.

A run from this runner already has such a reason in its end marker. An older run's reason
is rclone's last error (`Error not otherwise categorised. Last error: Attempt 3/3 failed
…`): then the run's classes, counted once per cause by the history, speak instead, and
without them the reason is cleaned of the summary. Exit-code-specific reasons (the
max-delete guard, a stall, an abort) are kept as they are. Pure (no textual).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tui.core import exitcodes
from tui.core.remedy import ErrorCount, JobFacts, clean_reason, reason_line

if TYPE_CHECKING:  # a type only: the dashboard's first frame has no history model
    from tui.core.history.model import Run

_RCLONE_SAYS = ("Last error:", "Attempt ")


@dataclass(frozen=True, slots=True)
class Counted:
    """A finished run's errors as the history counted them (once per file or cause)."""

    run_id: str | None
    legacy: bool
    count: ErrorCount


def counted(run: Run) -> Counted:
    count = ErrorCount(run.error_classes, run.failed_files, run.attempts, None,
                       run.error_lines)
    return Counted(run.id, run.legacy, count)


def count_for(c: Counted | None, run_id: str | None, legacy: bool) -> ErrorCount | None:
    """The history's count when it is of the run the dashboard shows (a legacy run has no
    id: the newest legacy run stands for it)."""
    if c is None:
        return None
    if run_id is not None and c.run_id == run_id:
        return c.count
    return c.count if run_id is None and legacy and c.legacy else None


def outcome_text(reason: str | None, exit_code: int | None, count: ErrorCount | None,
                 job: JobFacts | None, width: int | None = None) -> tuple[str, str | None]:
    """(the reason, the exit code's advice or None when the reason carries a remedy)."""
    meaning = exitcodes.meaning(exit_code)
    from_rclone = reason is None or any(s in reason for s in _RCLONE_SAYS)
    if from_rclone and count is not None and count.classes and job is not None:
        return reason_line(count, job, width=width), None
    if reason is None:
        return meaning.meaning, meaning.advice
    if from_rclone:
        return clean_reason(reason) or meaning.meaning, meaning.advice
    # The runner's own verdict (the delete guard, the watchdog, an abort, a remedy line)
    # already says what to do; the exit code's generic advice would contradict it (seen:
    # "Check credentials and quota" after "max-delete guard reached").
    return reason, None
