"""Filters over past runs, for `space-mirror history` and the history screen: outcome, a date
range and a `/` search. Pure functions; the clock and the time zone are always passed in.

* `--outcome failed[,aborted…]`: runs with one of these outcomes (`problem` stands for every
  outcome but success and running).
* `--since DATE`, `--until DATE`: ISO 8601 dates or times. A date alone is a whole day:
  `--since 2026-11-25` starts at its 00:00, `--until 2026-11-25` ends at its 24:00. A value
  without an offset is read in the zone the caller gives (the CLI: the host's local zone,
  the same clock as the markers' times); `Z` or `+02:00` make it explicit.
* search: every word of the query (case-insensitive) appears in the run's id, its reason, a
  failed file, an error class or its example line, or its mode (`dry-run`, `verify`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from tui.core.history import Run
from tui.core.runstate import Outcome

OUTCOMES = tuple(str(o) for o in Outcome)
PROBLEM = "problem"  # every outcome that needs a look: not success, not running
_PROBLEMS = frozenset({Outcome.FAILED, Outcome.ABORTED, Outcome.KILLED, Outcome.INCOMPLETE})
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class FilterError(ValueError):
    """A filter value that cannot be used; the message is one line for the operator."""


@dataclass(frozen=True, slots=True)
class RunFilter:
    outcomes: frozenset[Outcome] | None = None  # None: any
    since: datetime | None = None  # inclusive (aware)
    until: datetime | None = None  # exclusive (aware)
    search: str = ""

    @property
    def active(self) -> bool:
        return bool(self.outcomes is not None or self.since or self.until or self.search.strip())


def parse_outcomes(text: str) -> frozenset[Outcome]:
    """`failed` or `failed,aborted` or `problem` → the outcomes; FilterError otherwise."""
    chosen: set[Outcome] = set()
    for word in (w.strip().lower() for w in text.split(",")):
        if word == PROBLEM:
            chosen |= _PROBLEMS
        elif word in OUTCOMES:
            chosen.add(Outcome(word))
        else:
            raise FilterError(f"--outcome {word!r} is not one of {', '.join(OUTCOMES)}, "
                              f"{PROBLEM} (several with commas: failed,aborted)")
    return frozenset(chosen)


def parse_bound(text: str, zone: tzinfo | None, *, end: bool,
                option: str = "--since") -> datetime:
    """An aware datetime for `--since` (end=False) or `--until` (end=True).

    A date alone is its first instant, or for `end` the first instant of the next day; a
    time without an offset is read in `zone` (None: the host's local zone, with the offset
    in force on that date)."""
    value = text.strip()
    try:
        if _DATE_ONLY.match(value):
            day = date.fromisoformat(value)
            if end:
                day += timedelta(days=1)
            return _in_zone(datetime.combine(day, time()), zone)
        when = datetime.fromisoformat(value.replace(" ", "T", 1))
    except ValueError:
        raise FilterError(f"{option} {text!r} is not an ISO date or time (e.g. 2026-11-25 or "
                          "2026-11-25T03:00 or 2026-11-25T03:00+01:00)") from None
    if when.tzinfo is None:
        when = _in_zone(when, zone)
    # --until with a time: runs that started at that instant are included.
    return when + timedelta(microseconds=1) if end else when


def _in_zone(naive: datetime, zone: tzinfo | None) -> datetime:
    # A zoneinfo zone picks the offset valid on that date (DST included); so does
    # astimezone() for the host's zone.
    return naive.astimezone() if zone is None else naive.replace(tzinfo=zone)


def build(outcome: str | None, since: str | None, until: str | None, search: str | None,
          zone: tzinfo | None) -> RunFilter:
    """The CLI's options → a RunFilter; FilterError (one line) for bad values."""
    f = RunFilter(
        outcomes=parse_outcomes(outcome) if outcome else None,
        since=parse_bound(since, zone, end=False, option="--since") if since else None,
        until=parse_bound(until, zone, end=True, option="--until") if until else None,
        search=search or "",
    )
    if f.since and f.until and f.since >= f.until:
        raise FilterError(f"--since {since} is not before --until {until}")
    return f


def _when(run: Run) -> datetime | None:
    return run.started or run.ended


def search_fields(run: Run) -> Iterable[str]:
    """The texts a `/` search looks in."""
    yield run.id
    if run.reason:
        yield run.reason
    yield from run.failed_files
    for c in run.error_classes:
        yield c.cls
        yield c.example
    yield str(run.outcome)
    if run.dry_run:
        yield "dry-run"
    if run.mode != "sync":
        yield run.mode


def matches_search(run: Run, query: str) -> bool:
    """Every word of `query` (case-insensitive) is found in one of the run's search fields."""
    words = query.casefold().split()
    if not words:
        return True
    hay = [t.casefold() for t in search_fields(run)]
    return all(any(w in t for t in hay) for w in words)


def matches(run: Run, f: RunFilter) -> bool:
    if f.outcomes is not None and run.outcome not in f.outcomes:
        return False
    if f.since is not None or f.until is not None:
        when = _when(run)
        if when is None:
            return False
        if when.tzinfo is None:  # never from our markers; a guard for hand-made records
            return False
        if f.since is not None and when < f.since:
            return False
        if f.until is not None and when >= f.until:
            return False
    return matches_search(run, f.search)


def select(runs: Sequence[Run], f: RunFilter) -> list[Run]:
    """The runs that pass, in their order."""
    return [r for r in runs if matches(r, f)]


def first_on_or_after(runs: Sequence[Run], when: datetime) -> int | None:
    """For a screen's "jump to a date": the index of the first run (oldest first) that
    started at or after `when`, else None."""
    for i, r in enumerate(runs):
        w = _when(r)
        if w is not None and w.tzinfo is not None and w >= when:
            return i
    return None


def outcome_cell(run: Run, width: int) -> str:
    """The outcome as one cell of at most `width` characters that never hides a dry run or
    a verify: `failed (dry run)` → `dry failed` → `D failed` → `D fail`."""
    outcome = str(run.outcome)
    tag = "dry run" if run.dry_run else ("verify" if run.mode == "verify" else "")
    if not tag:
        return outcome[:max(width, 0)]
    short = "dry" if run.dry_run else "vfy"
    letter = "D" if run.dry_run else "V"
    for text in (f"{outcome} ({tag})", f"{short} {outcome}", f"{letter} {outcome}"):
        if len(text) <= width:
            return text
    return f"{letter} {outcome}"[:max(width, 1)] if width >= 1 else ""
