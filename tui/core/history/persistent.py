"""What repeats across runs: files that fail run after run, and deletes rclone keeps skipping.

After any I/O error rclone deletes nothing ("not deleting files as there were IO errors"),
so a source with one unreadable file leaves every file removed from it on the mirror,
night after night, and each night's log looks like a small, familiar failure. This module
reads the runs of a history and says what has been going on for several of them.

Only real runs that ran to their end count (a sync that succeeded or failed): a dry run
deletes nothing and fails no file, a verify (a sampled `rclone check`) copies nothing, and
an aborted or killed run, or one the watchdog or the window's cutoff stopped, may not have
reached a file at all, so none of them continues or breaks a streak. Only runs of the
latest run's job count (a log holds one job; the legacy wrapper's runs have no job name and
count together).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tui.core import exitcodes
from tui.core.history.model import Run
from tui.core.markers import VERIFY, iso
from tui.core.runstate import Outcome

_FINISHED = (Outcome.SUCCESS, Outcome.FAILED)


@dataclass(frozen=True, slots=True)
class PersistentFailure:
    """A file that failed in the latest real run, and in how many real runs before it."""

    path: str
    runs_in_a_row: int
    first_failed: datetime | None  # the start of the first run of this streak
    last_failed: datetime | None  # the start of the latest run (the streak's last)

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "runs_in_a_row": self.runs_in_a_row,
                "first_failed": iso(self.first_failed), "last_failed": iso(self.last_failed)}


@dataclass(frozen=True, slots=True)
class Persistent:
    """The state that builds up over runs (stable API: the metrics exporter reads it)."""

    deletes_skipped_runs: int  # successive latest real runs whose deletes rclone skipped
    deletes_skipped_since: datetime | None  # the start of the first of those runs
    pending_deletes: int | None  # what the latest dry run since then would delete
    files: tuple[PersistentFailure, ...]  # most runs in a row first

    @property
    def repeating(self) -> tuple[PersistentFailure, ...]:
        """Files that failed in more than one real run in a row ("run after run"); a file
        that failed only in the latest run is that run's failure, not a persistent one."""
        return tuple(f for f in self.files if f.runs_in_a_row > 1)

    def as_json(self) -> dict[str, Any]:
        return {
            "deletes_skipped_runs": self.deletes_skipped_runs,
            "deletes_skipped_since": iso(self.deletes_skipped_since),
            "pending_deletes": self.pending_deletes,
            "files": [f.as_json() for f in self.files],
        }


# Runs the job's own limits stopped before their end (the stall watchdog, max_duration, the
# window's cutoff): like an abort, they may not have reached a file at all.
_STOPPED_EARLY = frozenset({exitcodes.STALLED, exitcodes.TIMED_OUT, 10})


def _finished_real(runs: Sequence[Run]) -> list[Run]:
    return [r for r in runs if not r.dry_run and r.mode != VERIFY and r.outcome in _FINISHED
            and r.exit_code not in _STOPPED_EARLY]


def persistent_summary(runs: Sequence[Run]) -> Persistent:
    """What repeats in `runs` (oldest first, as `History.runs` holds them), for the job of
    the latest of them."""
    if runs:
        job = runs[-1].job
        runs = [r for r in runs if r.job == job]
    real = _finished_real(runs)
    # By identity: `r in real` compared runs field by field, for every pair (0.2 s for
    # 1,235 nights, growing with the square of the history's length).
    is_real = {id(r) for r in real}
    # A run stopped early that reached its deletes (it deleted files) paid the debt too.
    reached = [r for r in runs if id(r) in is_real or (
        not r.dry_run and r.mode != VERIFY and r.exit_code in _STOPPED_EARLY
        and not r.deletes_skipped and (r.deletes or 0) > 0)]
    skipped = 0
    for run in reversed(reached):
        if not run.deletes_skipped:
            break
        skipped += 1
    since = reached[-skipped].started if skipped else None
    return Persistent(skipped, since, _pending_deletes(runs, reached, skipped), _files(real))


def _pending_deletes(runs: Sequence[Run], real: list[Run], skipped: int) -> int | None:
    """Deletes the latest dry run would make, if it ran after the last real run that deleted
    (the plan of what the skipped runs left behind); None when there is no such dry run."""
    if not real:
        return None
    # The real run after which the count is still owed: the last one that did delete.
    after = real[-skipped - 1] if len(real) > skipped else None
    for run in reversed(runs):
        if after is not None and run is after:
            return None
        if run.dry_run and run.outcome in _FINISHED and run.deletes is not None:
            return run.deletes
    return None


def _files(real: list[Run]) -> tuple[PersistentFailure, ...]:
    if not real or not real[-1].failed_files:
        return ()
    found: list[PersistentFailure] = []
    for path in real[-1].failed_files:
        first = real[-1]
        count = 0
        for run in reversed(real):
            if path not in run.failed_files:
                break
            count += 1
            first = run
        found.append(PersistentFailure(path, count, first.started, real[-1].started))
    found.sort(key=lambda f: (-f.runs_in_a_row, f.path))
    return tuple(found)


def last_success(runs: Sequence[Run]) -> datetime | None:
    """When the last real sync of the latest run's job succeeded (its end), or None."""
    if runs:
        job = runs[-1].job
        for run in reversed(runs):
            if (run.job == job and run.outcome is Outcome.SUCCESS and not run.dry_run
                    and run.mode != VERIFY and run.ended is not None):
                return run.ended
    return None


def persistent_at(runs: Sequence[Run], run: Run) -> Persistent:
    """The summary as it stood when `run` ended (what its run detail shows)."""
    for i, r in enumerate(runs):
        if r is run:
            return persistent_summary(runs[:i + 1])
    return persistent_summary(())


def describe(p: Persistent) -> list[str]:
    """The summary as lines for people (run detail, triage report); none when all is well."""
    lines: list[str] = []
    if p.deletes_skipped_runs > 1:  # one run's skip is in its own summary
        since = f" since {_day(p.deletes_skipped_since)}" if p.deletes_skipped_since else ""
        if p.pending_deletes:
            lines.append(f"Deletes skipped {_runs(p.deletes_skipped_runs)} in a row{since}: "
                         f"the latest dry run would delete {p.pending_deletes} files that "
                         "are gone from the source.")
        elif p.pending_deletes == 0:
            lines.append(f"Deletes skipped {_runs(p.deletes_skipped_runs)} in a row{since}; "
                         "the latest dry run found no delete due.")
        else:
            lines.append(f"Deletes skipped {_runs(p.deletes_skipped_runs)} in a row{since} "
                         "(rclone deletes nothing after an I/O error); whether any delete is "
                         "due: `space-mirror plan`.")
    for f in p.files:
        if f.runs_in_a_row > 1:
            lines.append(f"{f.path}: failed {_runs(f.runs_in_a_row)} in a row, "
                         f"first {_day(f.first_failed)}, last {_day(f.last_failed)}")
    return lines


def _day(when: datetime | None) -> str:
    return "?" if when is None else when.strftime("%Y-%m-%d %H:%M")


def _runs(n: int) -> str:
    return f"{n} run{'s' if n != 1 else ''}"


def dashboard_line(p: Persistent) -> str | None:
    """One line for the dashboard about what has gone wrong in more than one run in a row
    (one run's trouble is the last run's reason): the file failing longest first, then the
    delete debt; None when nothing has."""
    parts: list[str] = []
    stuck = p.repeating
    if stuck:
        worst = stuck[0]
        others = f" (and {len(stuck) - 1} more)" if len(stuck) > 1 else ""
        parts.append(f"{worst.path} failed {_runs(worst.runs_in_a_row)} in a row{others}")
    if p.deletes_skipped_runs > 1 and p.pending_deletes != 0:
        # Only a dry run knows whether files are really gone from the source: without one,
        # say what rclone did and where to look, never that the mirror holds removed files.
        if p.pending_deletes:
            noun = "file" if p.pending_deletes == 1 else "files"
            parts.append(f"deletes skipped {_runs(p.deletes_skipped_runs)} in a row: "
                         f"{p.pending_deletes} {noun} gone from the source still mirrored")
        else:
            parts.append(f"deletes skipped {_runs(p.deletes_skipped_runs)} in a row "
                         "(I/O errors); p: whether any are due")
    return "; ".join(parts) or None
