"""RunState and `apply(state, event) -> state`: the one reducer for a run.

The dashboard applies events as the follower reads them; the runner applies them to write
its end marker and systemd status; the history scanner applies them to a run's slice of the
log. One set of rules for what a run looks like, whoever reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from tui.core import exitcodes
from tui.core.logline import ERROR_LEVELS, Event, LogRecord, MarkerLine, StatsUpdate
from tui.core.markers import Marker, MarkerKind
from tui.core.stats import Stats

RECENT_ERRORS = 20
FINISHED_NAMES = 64  # "Copied" names kept until the next stats line (tui/core/progress.py)
SPEED_SAMPLES = 60
IO_ERRORS_SKIP_DELETES = "not deleting files as there were IO errors"
# `Got fatal error on delete: --max-delete threshold reached`: one delete refused.
MAX_DELETE_REFUSED = "--max-delete threshold reached"


class Phase(StrEnum):
    IDLE = "idle"  # no run seen yet
    RUNNING = "running"  # a start marker without its end marker
    ENDED = "ended"


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILED = "failed"
    ABORTED = "aborted"  # SIGINT/SIGTERM, or an ABORTED marker
    KILLED = "killed"  # another signal (SIGKILL, SIGHUP): partial files may remain
    INCOMPLETE = "incomplete"  # a start marker and no end marker, and nothing running
    RUNNING = "running"


def left_undone(outcome: Outcome | str | None) -> bool:
    """Whether what a run's failed attempts logged (its failed files, its skipped deletes)
    still stands at its end: not when it succeeded. rclone retries a sync that had errors
    (`--retries`), and a failed attempt's ERROR lines stay in the log after the retry that
    went through (it copied those files and ran the deletes)."""
    return outcome != Outcome.SUCCESS


def outcome_for(kind: MarkerKind, exit_code: int | None) -> Outcome:
    """The outcome an end marker records."""
    if kind is MarkerKind.COMPLETE and not exit_code:
        return Outcome.SUCCESS
    if kind is MarkerKind.ABORTED or exitcodes.is_abort(exit_code):
        return Outcome.ABORTED
    if exit_code is not None and (exit_code > 128 or exit_code < 0):
        return Outcome.KILLED
    return Outcome.FAILED


@dataclass(frozen=True, slots=True)
class RunState:
    """What the log says about the run it shows: its phase, identity, outcome, rclone's
    latest stats and the counts folded from its lines (apply / apply_all)."""

    phase: Phase = Phase.IDLE
    run_id: str | None = None
    job: str | None = None
    dry_run: bool = False
    pid: int | None = None
    legacy: bool = False
    started: datetime | None = None
    ended: datetime | None = None
    exit_code: int | None = None
    outcome: Outcome | None = None
    reason: str | None = None
    stats: Stats | None = None
    # Counted from per-file lines: exact even when rclone was killed before its final stats.
    copied: int = 0
    # The sizes of the files rclone reported copied: a run stopped before its final stats
    # (an abort) still says as many bytes as the files it says it copied.
    copied_bytes: int = 0
    deleted: int = 0
    renamed: int = 0
    # `--max-delete threshold reached` errors: a delete rclone refused. rclone 1.60 counts
    # each one in its stats' `deletes` as if it had deleted the file.
    refused_deletes: int = 0
    error_lines: int = 0
    recent_errors: tuple[str, ...] = ()
    deletes_skipped_for_io_errors: bool = False
    speeds: tuple[float, ...] = field(default_factory=tuple)
    lines: int = 0
    # Files rclone reported copied since its last stats line, which may still list them
    # "in flight" at 100% (for ever, if rclone is stopped): the dashboard leaves them out.
    finished: tuple[str, ...] = ()

    @property
    def running(self) -> bool:
        return self.phase is Phase.RUNNING

    # The best available counters: the final stats when rclone printed them, else what the
    # per-file lines showed. Taking the larger covers a stats line up to 1 s stale.
    @property
    def transfers(self) -> int:
        return max(self.stats.transfers if self.stats else 0, self.copied)

    @property
    def deletes(self) -> int:
        counted = (self.stats.deletes - self.refused_deletes) if self.stats else 0
        return max(counted, self.deleted)

    @property
    def renames(self) -> int:
        return max(self.stats.renames if self.stats else 0, self.renamed)

    @property
    def errors(self) -> int:
        return self.stats.errors if self.stats else self.error_lines

    @property
    def bytes(self) -> int:
        return max(self.stats.bytes if self.stats else 0, self.copied_bytes)

    @property
    def checks(self) -> int:
        return self.stats.checks if self.stats else 0

    @property
    def elapsed(self) -> float:
        if self.stats is not None and self.stats.elapsed:
            return self.stats.elapsed
        if self.started is not None and self.ended is not None:
            return max(0.0, (self.ended - self.started).total_seconds())
        return 0.0

    def counters(self) -> dict[str, str]:
        """The end marker's counter fields."""
        return {
            "bytes": str(self.bytes),
            "transfers": str(self.transfers),
            "checks": str(self.checks),
            "deletes": str(self.deletes),
            "renames": str(self.renames),
            "errors": str(self.errors),
            "elapsed": f"{self.elapsed:.1f}",
        }


def apply(state: RunState, event: Event) -> RunState:
    """Fold one event into the state. Pure: returns a new state, never mutates."""
    if isinstance(event, LogRecord):
        return _apply_record(state, event)
    if isinstance(event, StatsUpdate):
        if state.phase is Phase.ENDED:
            # rclone's last stats line can land after the end marker (it writes from its own
            # goroutine while exiting); the marker's counters are final, keep them.
            return replace(state, lines=state.lines + 1)
        speeds = (*state.speeds, event.stats.speed)[-SPEED_SAMPLES:]
        return replace(state, stats=event.stats, speeds=speeds, lines=state.lines + 1,
                       finished=_still_listed(state.finished, event.stats))
    if isinstance(event, MarkerLine):
        return _apply_marker(state, event)
    return replace(state, lines=state.lines + 1)


def _still_listed(finished: tuple[str, ...], stats: Stats) -> tuple[str, ...]:
    """The finished names a new stats line still lists: rclone logs `Copied` before it drops
    the file from its list, so a stats line can be stale and must not bring the file back.
    A name it no longer lists is forgotten (the tuple stays small, and a later transfer of
    the same name, a retry, shows again)."""
    if not finished:
        return finished
    listed = {t.name for t in stats.transferring}
    return tuple(name for name in finished if name in listed)


# A per-file line that ends a file's transfer: it leaves the in-flight list at once.
_FILE_DONE = ("Copied (", "Moved (", "Renamed from", "Deleted")


def apply_all(state: RunState, events: list[Event]) -> RunState:
    """Fold a batch of events; equal to folding `apply`, but builds one new state per run
    of plain log records instead of one per record (the live path sees 20k+ lines/s)."""
    copied = deleted = renamed = errors = lines = refused = copied_bytes = 0
    recent: list[str] = []
    done: list[str] = []
    io_skip = False
    for event in events:
        if type(event) is LogRecord:
            lines += 1
            msg = event.msg
            if event.level in ERROR_LEVELS:
                errors += 1
                recent.append(event.text)
                if msg.startswith(IO_ERRORS_SKIP_DELETES):
                    io_skip = True
                elif MAX_DELETE_REFUSED in msg:
                    refused += 1
            else:
                if msg.startswith("Copied ("):
                    copied += 1
                    copied_bytes += _sent(event)
                elif msg == "Deleted":
                    deleted += 1
                elif msg.startswith("Renamed from"):
                    renamed += 1
                if event.object and msg.startswith(_FILE_DONE):
                    done.append(event.object)
            continue
        if lines:
            state = _add_counts(state, copied, deleted, renamed, errors, lines, recent, io_skip,
                                done, refused, copied_bytes)
            copied = deleted = renamed = errors = lines = refused = copied_bytes = 0
            recent = []
            done = []
            io_skip = False
        state = apply(state, event)
    if lines:
        state = _add_counts(state, copied, deleted, renamed, errors, lines, recent, io_skip,
                            done, refused, copied_bytes)
    return state


def _add_counts(state: RunState, copied: int, deleted: int, renamed: int, errors: int,
                lines: int, recent: list[str], io_skip: bool,
                done: list[str] | None = None, refused: int = 0,
                copied_bytes: int = 0) -> RunState:
    return replace(
        state,
        refused_deletes=state.refused_deletes + refused,
        copied=state.copied + copied,
        copied_bytes=state.copied_bytes + copied_bytes,
        deleted=state.deleted + deleted,
        renamed=state.renamed + renamed,
        error_lines=state.error_lines + errors,
        recent_errors=(*state.recent_errors, *recent[-RECENT_ERRORS:])[-RECENT_ERRORS:]
        if recent else state.recent_errors,
        deletes_skipped_for_io_errors=state.deletes_skipped_for_io_errors or io_skip,
        lines=state.lines + lines,
        finished=(*state.finished, *done)[-FINISHED_NAMES:] if done else state.finished,
    )


def _apply_marker(state: RunState, line: MarkerLine) -> RunState:
    marker = line.marker
    if marker.kind is MarkerKind.START:
        # A new run: everything before it belongs to an older one.
        return RunState(
            phase=Phase.RUNNING,
            run_id=marker.run_id,
            job=marker.fields.get("job"),
            dry_run=marker.dry_run,
            pid=marker.int_field("pid"),
            legacy=marker.legacy,
            started=marker.time,
            outcome=Outcome.RUNNING,
            lines=1,
        )
    if state.phase is not Phase.RUNNING:
        # An end marker with no start seen (we joined mid-file): still record the ending.
        state = replace(state, legacy=marker.legacy, run_id=marker.run_id)
    outcome = outcome_for(marker.kind, marker.exit_code)
    return replace(
        state,
        phase=Phase.ENDED,
        ended=marker.time,
        exit_code=marker.exit_code,
        outcome=outcome,
        deletes_skipped_for_io_errors=(state.deletes_skipped_for_io_errors
                                       and left_undone(outcome)),
        reason=marker.fields.get("reason"),
        stats=_final_stats(state.stats, marker),
        lines=state.lines + 1,
    )


def _final_stats(stats: Stats | None, marker: Marker) -> Stats | None:
    """An end marker's counters are the runner's final word on the run: they win over a
    stats line that may be a second stale, or missing (the follower lost rclone's lines to
    a log rotation, or joined late). Legacy markers carry none and change nothing."""
    if "transfers" not in marker.fields and "bytes" not in marker.fields:
        return stats
    base = stats or Stats()

    def pick(key: str, current: int) -> int:
        value = marker.int_field(key)
        return current if value is None else value

    elapsed = marker.float_field("elapsed")
    return replace(
        base,
        bytes=pick("bytes", base.bytes),
        transfers=pick("transfers", base.transfers),
        checks=pick("checks", base.checks),
        deletes=pick("deletes", base.deletes),
        renames=pick("renames", base.renames),
        errors=pick("errors", base.errors),
        elapsed=base.elapsed if elapsed is None else elapsed,
        transferring=(),
    )




def _sent(rec: LogRecord) -> int:
    """The bytes a `Copied (…)` line says were sent (a server-side copy sends none)."""
    if not rec.msg.startswith("Copied (") or "server-side" in rec.msg:
        return 0
    return rec.size or 0


def _apply_record(state: RunState, rec: LogRecord) -> RunState:
    msg = rec.msg
    lines = state.lines + 1
    if rec.is_error:
        recent = (*state.recent_errors, rec.text)[-RECENT_ERRORS:]
        return replace(
            state,
            error_lines=state.error_lines + 1,
            recent_errors=recent,
            deletes_skipped_for_io_errors=state.deletes_skipped_for_io_errors
            or msg.startswith(IO_ERRORS_SKIP_DELETES),
            refused_deletes=state.refused_deletes + (MAX_DELETE_REFUSED in msg),
            lines=lines,
        )
    if not msg.startswith(_FILE_DONE):
        return replace(state, lines=lines)
    done = (*state.finished, rec.object)[-FINISHED_NAMES:] if rec.object else state.finished
    return replace(state, lines=lines, finished=done,
                   copied=state.copied + msg.startswith("Copied ("),
                   copied_bytes=state.copied_bytes + _sent(rec),
                   deleted=state.deleted + (msg == "Deleted"),
                   renamed=state.renamed + msg.startswith("Renamed from"))
