"""Fragments → Run records: one run's fields from its fragments (a run cut by rotation has
one per file), and the names runs go by across a history. Both the whole history's assembly
(assemble.py) and one appended night (tui/history_extend.py) build runs here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from tui.core.history.files import is_gz
from tui.core.history.model import Fragment, LogSpan, Run
from tui.core.markers import Marker, MarkerKind, parse_marker
from tui.core.runstate import Outcome, left_undone, outcome_for
from tui.core.triage import ClassCount, Tally

TYPE_CHECKING = False  # typing is 2 ms to import (issue 21)
if TYPE_CHECKING:
    from typing import Any


def named(run: Run, base: str, used: dict[str, int]) -> Run:
    """`run` under its id in the history: `base`, or `base-N` for the Nth run of that id
    (two runs started in the same second, a run id reused); `used` counts them."""
    n = used.get(base, 0) + 1
    used[base] = n
    want = base if n == 1 else f"{base}-{n}"
    return run if run.id == want else replace(run, id=want)


def runs_appended(path: Path, fragments: Sequence[Fragment],
                  bases: Sequence[str]) -> tuple[list[Run], list[str]]:
    """The runs of `fragments`, scanned from bytes appended to `path` after a history whose
    runs had the ids `bases`, each fragment a whole run (it starts and ends in what was
    appended): the runs and their bases, named as the whole history's assembly names them."""
    used: dict[str, int] = {}
    for base in bases:
        used[base] = used.get(base, 0) + 1
    runs: list[Run] = []
    new_bases: list[str] = []
    for frag in fragments:
        run = run_from([(path, frag)])
        new_bases.append(run.id)
        runs.append(named(run, run.id, used))
    return runs, new_bases


def run_from(group: list[tuple[Path, Fragment]]) -> Run:
    first, final = group[0][1], group[-1][1]
    start = marker_from(first.start_marker, first.start_line)
    end = marker_from(final.end_marker, final.end_line)
    some = start or end
    legacy = some.legacy if some is not None else True
    run_id = (start.run_id if start else None) or (end.run_id if end else None)
    started = start.time if start else None
    ended = end.time if end else None
    # Without an end marker: `incomplete`, until `_running` asks whether it still runs.
    outcome = outcome_for(end.kind, end.exit_code) if end is not None else Outcome.INCOMPLETE
    if run_id is None:
        when = started or ended
        run_id = "legacy-" + (when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
                              if when else "unknown")
    stats = _merge_stats([f.stats for _, f in group])
    counted = _merge_counts([f.counted for _, f in group])
    marker_counts = end.fields if end is not None and not end.legacy else {}

    # rclone prints its final stats when it exits on its own (success or an error), not on a
    # signal: then its totals are the truth, and per-file lines (a stray one from another
    # process can land in the log) only fill in for a run that has no final stats.
    final_stats = stats is not None and outcome in (Outcome.SUCCESS, Outcome.FAILED)

    def pick(name: str, stat_key: str, count_key: str | None) -> int | None:
        if name in marker_counts and end is not None:
            value = end.int_field(name)
            if value is not None:
                return value
        from_stats = int(stats[stat_key]) if stats is not None else None
        from_lines = counted.get(count_key) if counted and count_key else None
        if from_stats is None:
            return from_lines
        if final_stats:
            return from_stats
        return max(from_stats, from_lines or 0)

    error_lines = sum(f.error_lines for _, f in group)
    errors = pick("errors", "errors", None)
    if errors is None and (counted is not None or error_lines):
        errors = error_lines
    elapsed = end.float_field("elapsed") if end is not None else None
    if elapsed is None and stats is not None and stats.get("elapsed"):
        elapsed = float(stats["elapsed"])
    classes = _merge_classes([f for _, f in group])
    attempts = max((f.attempts for _, f in group if f.attempts), default=None)
    failed: list[str] = []
    for _, f in group:
        failed.extend(x for x in f.failed_files if x not in failed)
    # Its error classes stay even when it succeeded: they say what a retry got past.
    undone = left_undone(outcome)
    spans = tuple(LogSpan(str(p), f.region_start, f.region_end, is_gz(p)) for p, f in group)
    return Run(
        id=run_id, legacy=legacy, job=some.fields.get("job") if some is not None else None,
        started=started, ended=ended,
        outcome=outcome, exit_code=end.exit_code if end else None,
        dry_run=bool(start and start.dry_run), reason=end.fields.get("reason") if end else None,
        bytes=pick("bytes", "bytes", None), transfers=pick("transfers", "transfers", "copied"),
        checks=pick("checks", "checks", None), deletes=pick("deletes", "deletes", "deleted"),
        renames=pick("renames", "renames", "renamed"), errors=errors, elapsed=elapsed,
        error_lines=error_lines, error_classes=classes,
        failed_files=tuple(failed) if undone else (),
        deletes_skipped=undone and any(f.deletes_skipped for _, f in group),
        spans=spans,
        mode=some.fields.get("mode", "sync") if some is not None else "sync",
        verify=_verify_counts(end.fields) if end is not None and end.verify else None,
        attempts=attempts,
    )


def _merge_classes(frags: Sequence[Fragment]) -> tuple[ClassCount, ...]:
    """A run's classes over its fragments: a cause seen before and after a rotation (the
    same file failing on each attempt) counts once."""
    tally = Tally()
    examples = {str(c[0]): str(c[2]) for f in reversed(frags) for c in f.classes}
    for f in frags:
        if f.causes or not f.classes:
            for cls, key in f.causes:
                tally.count(cls, key, examples.get(cls, ""))
        else:
            for cls, count, example in f.classes:
                tally.merge(str(cls), int(count), str(example))
    return tally.result()


def _merge_stats(items: list[dict[str, float] | None]) -> dict[str, float] | None:
    # rclone's stats are cumulative for the process: the last block seen is the total.
    found = [s for s in items if s is not None]
    return found[-1] if found else None


def _merge_counts(items: list[dict[str, int] | None]) -> dict[str, int] | None:
    found = [c for c in items if c is not None]
    if not found:
        return None
    total: dict[str, int] = {}
    for c in found:
        for k, v in c.items():
            total[k] = total.get(k, 0) + v
    return total

def marker_from(data: dict[str, Any] | None, line: str | None) -> Marker | None:
    if data is not None:
        try:
            when = data["time"]
            return Marker(MarkerKind(data["kind"]),
                          datetime.fromisoformat(when) if when else None,
                          data["exit"], dict(data["fields"]))
        except (KeyError, ValueError, TypeError):
            pass
    return parse_marker(line) if line else None


def _verify_counts(fields: dict[str, str]) -> dict[str, int] | None:
    from tui.core.verify import counts_from_fields  # a verify run's only: not at import

    return counts_from_fields(fields)
