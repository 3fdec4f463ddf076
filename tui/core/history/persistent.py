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

from tui.core import exitcodes
from tui.core.history.model import iso_full
from tui.core.markers import VERIFY, iso
from tui.core.runstate import Outcome

TYPE_CHECKING = False  # typing is 2 ms to import (issue 21)

if TYPE_CHECKING:
    from typing import Any, Protocol

    from tui.core.history.model import Run

    class Facts(Protocol):
        """What the summary reads of a run: a Run, or the RunFacts kept in its place."""

        @property
        def job(self) -> str | None: ...
        @property
        def dry_run(self) -> bool: ...
        @property
        def mode(self) -> str: ...
        @property
        def outcome(self) -> Outcome: ...
        @property
        def exit_code(self) -> int | None: ...
        @property
        def deletes_skipped(self) -> bool: ...
        @property
        def deletes(self) -> int | None: ...
        @property
        def started(self) -> datetime | None: ...
        @property
        def failed_files(self) -> tuple[str, ...]: ...

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


class RunFacts:
    """A run reduced to what the summary reads of it. The `history` memo keeps a row for
    each run that can still count (`still_counted`, tui/history_extend.py): one appended
    night then recomputes the summary over those rows and the night's runs, without
    rebuilding the years of runs before them."""

    __slots__ = ("deletes", "deletes_skipped", "dry_run", "exit_code", "failed_files", "job",
                 "mode", "outcome", "started")

    def __init__(self, row: Sequence[Any]) -> None:
        """From `facts_row`'s row; ValueError or TypeError on a bad one."""
        (self.job, self.dry_run, self.mode, outcome, self.exit_code, self.deletes_skipped,
         self.deletes, started, failed) = row
        self.outcome = Outcome(outcome)
        self.started = datetime.fromisoformat(started) if started else None
        self.failed_files = tuple(failed)


def facts_row(run: Facts) -> list[Any]:
    """The facts of `run` as a JSON row (every digit of its start: the summary prints it)."""
    return [run.job, run.dry_run, run.mode, str(run.outcome), run.exit_code,
            run.deletes_skipped, run.deletes, iso_full(run.started), list(run.failed_files)]


def _is_finished_real(r: Facts) -> bool:
    return (not r.dry_run and r.mode != VERIFY and r.outcome in _FINISHED
            and r.exit_code not in _STOPPED_EARLY)


def _finished_real(runs: Sequence[Facts]) -> list[Facts]:
    return [r for r in runs if _is_finished_real(r)]


def still_counted(runs: Sequence[Facts]) -> list[Facts]:
    """The runs that can still count, in order: for any runs that follow, the summary of
    `runs` and them is the summary of these and them. Every streak breaks at a job's latest
    real run that failed no file and skipped no delete: a job's runs before it are never
    counted again (tested against the whole summary)."""
    clean: dict[str | None, int] = {}  # each job's latest such run
    for i, r in enumerate(runs):
        if _is_finished_real(r) and not r.deletes_skipped and not r.failed_files:
            clean[r.job] = i
    return [r for i, r in enumerate(runs) if i >= clean.get(r.job, 0)]


def persistent_summary(runs: Sequence[Facts]) -> Persistent:
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


def _pending_deletes(runs: Sequence[Facts], real: list[Facts], skipped: int) -> int | None:
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


def _files(real: list[Facts]) -> tuple[PersistentFailure, ...]:
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
