"""`space-mirror history`: past runs from the job's log and its rotated siblings.

For people, a plain aligned table, newest run first. With `--json`, the runs oldest first and
the warnings, in the shape docs/history.md describes.
"""

from __future__ import annotations

import sys

from tui.core import exitcodes
from tui.core.text import printable
from tui.core.units import count_text, format_bytes, format_duration
from tui.core.verify import history_note as verify_notes
from tui.ops.history import load_history

TYPE_CHECKING = False  # typing is 2 ms to import (issue 21)
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from tui.config import Job
    from tui.core import runfilter
    from tui.core.history import History, Run


class Printed:
    """What `history` prints: its exit code, its standard output and its warnings."""

    __slots__ = ("code", "err", "grows", "history", "out", "rows")

    def __init__(self, code: int, out: str, err: str, history: History | None,
                 grows: bool = False, rows: list[tuple[str, ...]] | None = None) -> None:
        self.code = code
        self.out = out
        self.err = err
        self.history = history  # None: a usage error, no history read
        # Every run, unfiltered: a night appended to the log is a run appended to the
        # answer (its memo can grow, tui/history_extend.py).
        self.grows = grows
        self.rows = rows  # the table's cells, newest first (None: the JSON)

    def write(self) -> int:
        sys.stdout.write(self.out)  # one write: thousands of small ones cost more
        sys.stdout.flush()
        if self.err:
            sys.stderr.write(self.err)
        return self.code


def history_command(job: Job, as_json: bool, limit: int | None,
                    where: runfilter.RunFilter | None = None) -> int:
    return history_answer(job, as_json, limit, where).write()


def history_answer(job: Job, as_json: bool, limit: int | None,
                   where: runfilter.RunFilter | None = None) -> Printed:
    if limit is not None and limit < 0:
        return Printed(exitcodes.USAGE, "", "space-mirror: --limit must be 0 or more\n", None)
    history = load_history(job)
    shown = history
    if where is not None and where.active:
        from dataclasses import replace

        from tui.core import runfilter

        # Filter first, then --limit: "the last 5 failures", not "failures among the last 5".
        shown = replace(history, runs=runfilter.select(history.runs, where))
    if as_json:
        return Printed(exitcodes.OK, shown.json_document(limit, history.runs), "", history,
                       grows=shown is history and not limit)
    runs = shown.runs[-limit:] if limit else shown.runs
    rows = table_rows(list(reversed(runs)))
    err = "".join(printable(f"warning: {w}") + "\n" for w in history.warnings)
    return Printed(exitcodes.OK, table_text(rows, filtered=shown is not history), err,
                   history, grows=shown is history and not limit, rows=rows)


COLUMNS = ("STARTED", "OUTCOME", "EXIT", "DURATION", "BYTES", "FILES", "DELETES", "RENAMES",
           "ERRORS", "ID", "NOTES")
_RIGHT = {"EXIT", "DURATION", "BYTES", "FILES", "DELETES", "RENAMES", "ERRORS"}




def run_notes(run: Run) -> str:
    notes: list[str] = []
    if run.dry_run:
        notes.append("dry run")
    if run.mode == "verify":
        # Its differences, classed by rclone check itself: the triage classes would repeat them.
        notes.append(verify_notes(run.verify))
        return "; ".join(notes)
    if run.deletes_skipped:
        notes.append("deletes skipped (IO errors)")
    if run.error_classes:
        from tui.core.rundetail import classes_note  # the table's, not the JSON's

        notes.append(classes_note(run, 3))
    return "; ".join(notes)


def table_rows(runs: list[Run]) -> list[tuple[str, ...]]:
    from tui.core import runfilter  # the outcome cells

    rows: list[tuple[str, ...]] = []
    for r in runs:
        started = r.started.strftime("%Y-%m-%d %H:%M:%S") if r.started else "?"
        rows.append((
            started, runfilter.outcome_cell(r, 24), count_text(r.exit_code),
            format_duration(r.duration_s),
            format_bytes(r.bytes) if r.bytes is not None else "-", count_text(r.transfers),
            count_text(r.deletes), count_text(r.renames), count_text(r.errors), r.id, run_notes(r),
        ))
    return rows


def table_text(rows: Sequence[tuple[str, ...]], filtered: bool = False) -> str:
    """The table of `rows` (newest first): the header, one line each, the count."""
    widths = table_widths(rows)
    lines = [table_line(COLUMNS, widths), *(table_line(row, widths) for row in rows)]
    return "".join(line + "\n" for line in lines) + table_footer(len(rows), filtered)


def table_widths(rows: Iterable[Sequence[str]],
                 widths: Sequence[int] | None = None) -> list[int]:
    """Each column as wide as its widest cell (the header's included), from `widths` on."""
    wide = list(widths) if widths is not None else [len(c) for c in COLUMNS]
    for row in rows:
        for i, cell in enumerate(row):
            if len(cell) > wide[i]:
                wide[i] = len(cell)
    return wide


def table_line(cells: Sequence[str], widths: Sequence[int]) -> str:
    parts = [c.rjust(w) if name in _RIGHT else c.ljust(w)
             for c, w, name in zip(cells, widths, COLUMNS, strict=True)]
    return printable("  ".join(parts).rstrip())  # file names in the notes


def table_footer(count: int, filtered: bool = False) -> str:
    if filtered:
        return f"newest first; {count} run(s) match\n" if count else "no runs match the filters\n"
    return f"newest first; {count} run(s)\n" if count else "no runs in the log\n"
