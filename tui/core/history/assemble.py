"""Fragments from every file → Run records: joining runs cut by rotation, picking counters."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from tui.core.cachedir import default_cache_dir
from tui.core.gcpause import gc_paused
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
from tui.core.history.model import Fragment, History, HistoryWarning, Run
from tui.core.history.runs import marker_from, named, run_from
from tui.core.runstate import Outcome

TYPE_CHECKING = False  # typing is 2 ms to import (issue 21)
if TYPE_CHECKING:
    from typing import Any

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
    with gc_paused():
        return _scan_history(log, cache_dir, use_cache, is_running, write)


def _scan_history(log: Path, cache_dir: Path | None, use_cache: bool,
                  is_running: RunningCheck | None, write: CacheWriter | None) -> History:
    files, warnings = log_files(log)
    entries = cache_path(cache_dir or default_cache_dir(), log) if use_cache else None
    answer_file = answer_path(entries) if entries is not None else None
    sig = signature(files) if answer_file is not None else None
    cached = load_answer(answer_file, sig) if answer_file is not None else None
    if cached is not None and cached[1]:
        # Nothing changed: one stat per file and this one read are the whole cost.
        answer = cached[0]
        return History(_running(answer, is_running), warnings + answer.warnings, files,
                       answer.bases)
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
    return History(_running(answer, is_running), warnings, files, answer.bases)


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
    known: dict[tuple[tuple[str, int, int], ...], tuple[Run, str, Any]] = {}
    if before is not None:
        last_open = before.runs[-1].spans if before.open_id and before.runs else None
        for run, base, row in zip(before.runs, before.bases, before.cached_rows(),
                                  strict=False):
            if run.spans != last_open:  # an open run may have gone on since
                known[tuple((s.path, s.start, s.end) for s in run.spans)] = (run, base, row)
    trust = trusted or {}
    runs: list[Run] = []
    bases: list[str] = []
    new_rows: list[list[Any] | None] = []
    used: dict[str, int] = {}
    for group in groups:
        key = tuple((str(p), f.region_start, f.region_end) for p, f in group)
        hit = known.get(key)
        if hit is not None and all(f.region_end <= trust.get(p, 0) for p, f in group):
            run, base, row = hit
        else:
            run, row = run_from(group), None
            base = run.id
        as_named = named(run, base, used)
        runs.append(as_named)
        bases.append(base)
        new_rows.append(row if as_named is run else None)  # renamed: its row is not its own
    open_id: list[Any] | None = None
    if groups and groups[-1][-1][1].end_line is None:
        first = groups[-1][0][1]
        start = marker_from(first.start_marker, first.start_line)
        open_id = [start.run_id if start else None]
    return Answer(runs, bases, [], open_id, new_rows)
