"""The history's records: what a run is, what the scanner found in one file, and warnings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from tui.core.markers import iso
from tui.core.runstate import Outcome
from tui.core.triage import ClassCount

TYPE_CHECKING = False  # typing is 2 ms to import (issue 21)
if TYPE_CHECKING:
    from typing import Any

_OUTCOMES = {str(o): o for o in Outcome}  # a cached outcome's text → the Outcome


# --- records ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class HistoryWarning:
    """Something in the logs that was skipped; never fatal."""

    file: str
    offset: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: byte {self.offset}" if self.offset is not None else self.file
        return f"{where}: {self.message}"

    def row(self) -> list[Any]:
        """[file, offset, message]: how the caches, and a split scan's children, carry it."""
        return [self.file, self.offset, self.message]

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> HistoryWarning:
        """The inverse of `row`; IndexError on a short row."""
        return cls(row[0], row[1], row[2])


@dataclass(frozen=True, slots=True)
class LogSpan:
    """Where (part of) a run's lines are: a byte range of one (maybe gzipped) file."""

    path: str
    start: int
    end: int
    compressed: bool = False


@dataclass(frozen=True, slots=True)
class Run:
    """One run of the job, as its log tells it: markers, rclone's counters, its errors."""

    id: str
    legacy: bool
    job: str | None
    started: datetime | None
    ended: datetime | None
    outcome: Outcome
    exit_code: int | None
    dry_run: bool
    reason: str | None
    bytes: int | None
    transfers: int | None
    checks: int | None
    deletes: int | None
    renames: int | None
    errors: int | None
    elapsed: float | None
    error_lines: int
    error_classes: tuple[ClassCount, ...]
    failed_files: tuple[str, ...]
    deletes_skipped: bool
    spans: tuple[LogSpan, ...]
    # "sync", "dry-run" or "verify" (a sampled `rclone check`, see docs/verify.md).
    mode: str = "sync"
    verify: dict[str, int] | None = None  # a verify's counts (tui/core/verify.py)
    # rclone's failed attempts (it retries a failed sync, 3 attempts by default); the error
    # classes count each failing file or cause once, whatever the attempts.
    attempts: int | None = None

    @property
    def duration_s(self) -> float | None:
        if self.started is not None and self.ended is not None:
            marker_span = max(0.0, (self.ended - self.started).total_seconds())
            # Legacy markers have whole seconds: rclone's own elapsed time is finer.
            if self.elapsed is not None and abs(self.elapsed - marker_span) < 2:
                return round(self.elapsed, 1)
            return marker_span
        return None if self.elapsed is None else round(self.elapsed, 1)

    def to_cache(self) -> list[Any]:
        """Every field, as a compact JSON row (the history cache stores assembled runs)."""
        return [self.id, self.legacy, self.job, iso_full(self.started), iso_full(self.ended),
                str(self.outcome), self.exit_code, self.dry_run, self.reason, self.bytes,
                self.transfers, self.checks, self.deletes, self.renames, self.errors,
                self.elapsed, self.error_lines,
                [[c.cls, c.count, c.example] for c in self.error_classes],
                list(self.failed_files), self.deletes_skipped,
                [[s.path, s.start, s.end, s.compressed] for s in self.spans],
                self.mode, self.verify, self.attempts]

    @classmethod
    def from_cache(cls, row: list[Any]) -> Run:
        """The inverse of `to_cache`; TypeError, ValueError, KeyError or IndexError on a bad
        row. Every run of the history passes here on each read after a night was appended:
        the fields are given by position (the row's order is the fields' order), the outcome
        looked up, not called (issue 21: 5 → 3.4 ms for 1,000 runs)."""
        (run_id, legacy, job, started, ended, outcome, exit_code, dry_run, reason, nbytes,
         transfers, checks, deletes, renames, errors, elapsed, error_lines, classes, failed,
         deletes_skipped, spans, mode, verify, attempts) = row
        return cls(
            run_id, legacy, job,
            datetime.fromisoformat(started) if started else None,
            datetime.fromisoformat(ended) if ended else None,
            _OUTCOMES[outcome], exit_code, dry_run, reason, nbytes, transfers, checks,
            deletes, renames, errors, elapsed, error_lines,
            tuple([ClassCount(c[0], c[1], c[2]) for c in classes]) if classes else (),
            tuple(failed), deletes_skipped,
            tuple([LogSpan(s[0], s[1], s[2], s[3]) for s in spans]),
            mode, verify, attempts)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "started": iso(self.started),
            "ended": iso(self.ended),
            "duration_s": self.duration_s,
            "outcome": str(self.outcome),
            "exit_code": self.exit_code,
            "dry_run": self.dry_run,
            "mode": self.mode,
            "verify": self.verify,
            "bytes": self.bytes,
            "transfers": self.transfers,
            "checks": self.checks,
            "deletes": self.deletes,
            "renames": self.renames,
            "errors": self.errors,
            "attempts": self.attempts,
            "error_classes": [
                {"class": c.cls, "count": c.count, "example": c.example}
                for c in self.error_classes
            ],
            "failed_files": list(self.failed_files),
        }


@dataclass(slots=True)
class History:
    """Every run in a log and its rotated siblings, oldest first, and what was skipped."""

    runs: list[Run]
    warnings: list[HistoryWarning]
    files: list[Path] = field(default_factory=list)
    bases: list[str] = field(default_factory=list)  # each run's id before its `-N`, if known

    def json_document(self, limit: int | None = None,
                      every_run: Sequence[Run] | None = None) -> str:
        """`history --json`'s text. `every_run`: the runs before any filter (default
        `runs`). What repeats is read from all of them, whatever the limit or a filter
        shows: a streak of failures is not a streak once the successes between them are
        filtered out."""
        from tui.core.history.persistent import persistent_summary

        runs = self.runs if not limit or limit <= 0 else self.runs[-limit:]
        whole = self.runs if every_run is None else every_run
        return json_document(runs_json(runs), persistent_summary(whole).as_json(),
                             [str(w) for w in self.warnings])


def runs_json(runs: Sequence[Run]) -> str:
    """The runs' part of `history --json`: their objects, oldest first, `, ` between them
    (no brackets: one appended night's is joined to the kept one's, tui/history_extend.py)."""
    from tui.core.text import json_text

    return json_text([r.as_json() for r in runs])[1:-1]


def json_document(runs: str, persistent: dict[str, Any], warnings: list[str]) -> str:
    """`history --json`'s one shape (docs/history.md): the runs' part from `runs_json`,
    what repeats across them, the warnings. The same text whether the runs' part was
    encoded at once or joined from pieces (json_text escapes character by character)."""
    from tui.core.text import json_text

    return (f'{{"runs": [{runs}], "persistent": {json_text(persistent)}, '
            f'"warnings": {json_text(warnings)}}}\n')


# --- per-file scan results (what the cache holds) ---------------------------------------------
@dataclass(slots=True)
class Fragment:
    """A run as seen inside one file. A run cut by rotation has two fragments."""

    region_start: int
    region_end: int
    start_line: str | None = None  # the start marker's text (None: the file began mid-run)
    end_line: str | None = None  # the end marker's text (None: still open in this file)
    # The markers, parsed once at scan time and cached: re-parsing ~2 000 marker lines
    # (legacy `date` output needs a regex) was the largest cost of an incremental run.
    start_marker: dict[str, Any] | None = None
    end_marker: dict[str, Any] | None = None
    stats: dict[str, float] | None = None
    counted: dict[str, int] | None = None  # per-file line counts (line-by-line parse only)
    error_lines: int = 0
    classes: list[list[Any]] = field(default_factory=list)  # [class, count, example]
    # [class, file or message]: each cause once, so that a run split by rotation merges
    # without counting a cause twice (empty when there were too many to keep).
    causes: list[list[str]] = field(default_factory=list)
    attempts: int | None = None  # rclone's failed attempts (`Attempt N/M failed`)
    failed_files: list[str] = field(default_factory=list)
    deletes_skipped: bool = False

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fragment:
        return cls(**{k: data[k] for k in cls.__slots__ if k in data})


@dataclass(slots=True)
class FileScan:
    """What the scanner found in one file: its runs' fragments and its warnings."""

    fragments: list[Fragment]
    warnings: list[HistoryWarning]
    size: int
    # Fragments ending up to here came from the cache as they were (the file unchanged, or
    # only grown past them): their runs can be taken from the cached answer.
    reused_upto: int = 0

    @property
    def resume_offset(self) -> int:
        """Where a re-scan of a grown file starts: after the last run that ended."""
        ends = [f.region_end for f in self.fragments if f.end_line is not None]
        return max(ends) if ends else 0


def iso_full(when: datetime | None) -> str | None:
    """Every digit (the cache must give back the very datetime it was given)."""
    return None if when is None else when.isoformat()
