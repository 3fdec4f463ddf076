"""Fragments from every file → Run records: joining runs cut by rotation, picking counters."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tui.core.cachedir import default_cache_dir
from tui.core.history.cache import (
    Answer,
    Cache,
    CacheWriter,
    answer_path,
    cache_path,
    load_answer,
    needs_reading,
    save_answer,
    scan_file,
    signature,
)
from tui.core.history.files import GzPrefetch, is_gz, log_files
from tui.core.history.model import Fragment, History, HistoryWarning, LogSpan, Run
from tui.core.markers import Marker, MarkerKind, parse_marker
from tui.core.runstate import Outcome, left_undone, outcome_for
from tui.core.triage import ClassCount, Tally
from tui.core.verify import counts_from_fields

# --- assembling runs --------------------------------------------------------------------------
RunningCheck = Callable[[str | None], bool]


def scan_history(
    log: Path,
    *,
    cache_dir: Path | None = None,
    use_cache: bool = True,
    is_running: RunningCheck | None = None,
    write: CacheWriter | None = None,
) -> History:
    """Every run in `log` and its rotated siblings, oldest first.

    `is_running(run_id)` answers whether the run left open at the end of the newest file is
    still going (the caller asks the lock; `run_id` is None for a legacy wrapper run).
    `write(path, data)` saves the cache (the caller's safe-file layer); without it, a private
    temp file renamed into place.
    """
    files, warnings = log_files(log)
    entries = cache_path(cache_dir or default_cache_dir(), log) if use_cache else None
    answer_file = answer_path(entries) if entries is not None else None
    sig = signature(files) if answer_file is not None else None
    cached = load_answer(answer_file, sig) if answer_file is not None else None
    if cached is not None and cached[1]:
        # Nothing changed: one stat per file and this one read are the whole cost.
        answer = cached[0]
        return History(_running(answer, is_running), warnings + answer.warnings, files)
    cache = Cache(entries, warnings, write)
    found: list[HistoryWarning] = []  # what the files hold (kept with the answer)
    pieces: list[tuple[Path, Fragment]] = []
    trusted: dict[Path, int] = {}
    # Rotated .gz files are read once (then cached), and inflating them is most of that
    # first read: decompress them ahead, on the other cores, while the scan goes on.
    prefetch = GzPrefetch([p for p in files if is_gz(p) and needs_reading(p, cache)])
    try:
        for path in files:
            scan = scan_file(path, cache, found, prefetch=prefetch)
            if scan is None:
                continue
            found.extend(scan.warnings)
            pieces.extend((path, f) for f in scan.fragments)
            trusted[path] = scan.reused_upto
    finally:
        prefetch.close()
    warnings.extend(found)
    cache.save(warnings)
    # The cache's JSON form of every fragment is not needed past here: freed before the runs
    # are built, the peak is one form at a time (issue 21's memory figure).
    cache.entries = cache.new_entries = {}
    answer = _assemble(pieces, cached[0] if cached is not None else None, trusted)
    answer.warnings = found
    if answer_file is not None:
        save_answer(answer_file, sig, answer, warnings, write)
    return History(_running(answer, is_running), warnings, files)


def _running(answer: Answer, is_running: RunningCheck | None) -> list[Run]:
    """The runs, the last one `running` if it has no end marker and is still going."""
    runs = answer.runs
    if answer.open_id and runs and is_running is not None and is_running(answer.open_id[0]):
        runs = [*runs[:-1], replace(runs[-1], outcome=Outcome.RUNNING)]
    return runs


def _assemble(pieces: Sequence[tuple[Path, Fragment]], before: Answer | None = None,
              trusted: dict[Path, int] | None = None) -> Answer:
    """Runs from fragments. A run whose fragments all came unchanged from the cache, at the
    same places, is taken from the cached answer `before` instead of being rebuilt."""
    groups: list[list[tuple[Path, Fragment]]] = []
    for path, frag in pieces:
        prev = groups[-1][-1][1] if groups else None
        if (frag.start_line is None and prev is not None and prev.end_line is None
                and groups[-1][-1][0] != path):
            groups[-1].append((path, frag))  # the rest of a run cut by rotation
        else:
            groups.append([(path, frag)])
    known: dict[tuple[tuple[str, int, int], ...], tuple[Run, str]] = {}
    if before is not None:
        last_open = before.runs[-1].spans if before.open_id and before.runs else None
        for run, base in zip(before.runs, before.bases, strict=False):
            if run.spans != last_open:  # an open run may have gone on since
                known[tuple((s.path, s.start, s.end) for s in run.spans)] = (run, base)
    trust = trusted or {}
    runs: list[Run] = []
    bases: list[str] = []
    used: dict[str, int] = {}
    for group in groups:
        key = tuple((str(p), f.region_start, f.region_end) for p, f in group)
        hit = known.get(key)
        if hit is not None and all(f.region_end <= trust.get(p, 0) for p, f in group):
            run, base = hit
        else:
            run = _run_from(group)
            base = run.id
        n = used.get(base, 0) + 1
        used[base] = n
        want = base if n == 1 else f"{base}-{n}"
        if run.id != want:
            run = _with_id(run, want)
        runs.append(run)
        bases.append(base)
    open_id: list[Any] | None = None
    if groups and groups[-1][-1][1].end_line is None:
        first = groups[-1][0][1]
        start = marker_from(first.start_marker, first.start_line)
        open_id = [start.run_id if start else None]
    return Answer(runs, bases, [], open_id)


def _with_id(run: Run, new_id: str) -> Run:
    return replace(run, id=new_id)


def _run_from(group: list[tuple[Path, Fragment]]) -> Run:
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
        verify=counts_from_fields(end.fields) if end is not None and end.verify else None,
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
