"""The one health model of a job, and its verdict: Nagios plugin codes (0 OK, 1 WARNING,
2 CRITICAL, 3 UNKNOWN) from facts gathered once (tui/ops/health.py). Pure; `now` is a fact.

`Facts` is the model: the last outcome, the last good mirror's age, running or not, progress
and stall, the files failing run after run (with their runs in a row), delete debt, and the
partial files a stopped run really left. `status` (text and JSON), the overview, the
dashboard's header, the fleet rows and the metrics read it; nothing else computes these.

    CRITICAL  the last success is older than crit_after (or there never was one); a running
              sync has made no progress for stall_timeout
    WARNING   the last success is older than warn_after; the last real sync failed; a
              running sync has made no progress for 10 s; rclone skipped deletes in 2+
              runs in a row; files fail run after run
    UNKNOWN   nothing is recorded and nothing runs (no summary), or it cannot be read
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from tui.core.logline import Event, StatsUpdate
from tui.core.markers import parse_marker_time
from tui.core.progress import is_stalled, progress_key
from tui.core.runstate import RunState, apply
from tui.core.units import age_text

if TYPE_CHECKING:  # the history is not imported before the dashboard's first frame
    from tui.core.history.persistent import PersistentFailure
    from tui.core.rotation import Coverage

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
LABELS = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}


@dataclass(frozen=True, slots=True)
class LastRun:
    run_id: str | None
    mode: str
    outcome: str
    exit_code: int | None
    ended: float | None
    reason: str | None
    stalled: bool = False  # the stall watchdog stopped it
    partials_left: int | None = None  # partial files it left at the destination, if counted


@dataclass(frozen=True)
class Facts:
    job: str
    now: float  # unix seconds
    warn_after: float
    crit_after: float
    stall_timeout: float
    recorded: bool  # a readable summary of a past run exists
    last_success: float | None = None
    last_run: LastRun | None = None
    running: str | None = None  # who holds the lock: "pid 42, run R, started T, by timer"
    no_progress_for: float | None = None  # seconds, while a run is going
    deletes_skipped_runs: int = 0
    pending_deletes: int | None = None  # None: unknown
    # The latest real run's failing files with their runs in a row (None: history unknown).
    failures: tuple[PersistentFailure, ...] | None = None
    # Only the count of files failing run after run, where no history is at hand (a fleet
    # row reads `space_mirror_persistent_failed_files`); ignored when `failures` is known.
    persistent_count: int | None = None
    # A rotating verify's coverage (verify --rotate N; None: no rotation recorded).
    coverage: Coverage | None = None
    # The last real sync, when the last run was a dry run (a dry run never hides it).
    last_real: LastRun | None = None

    @property
    def persistent(self) -> tuple[PersistentFailure, ...] | None:
        """Files that failed in more than one real run in a row: "run after run"."""
        if self.failures is None:
            return None
        return tuple(f for f in self.failures if f.runs_in_a_row > 1)

    @property
    def persistent_files(self) -> int | None:
        p = self.persistent
        return self.persistent_count if p is None else len(p)

    @property
    def stalled_now(self) -> bool:
        """A running sync has made no progress for long enough to be called stalled: the
        same threshold the dashboard's STALLED reads (core/progress.is_stalled)."""
        return bool(self.running) and is_stalled(self.no_progress_for, self.stall_timeout)

    @property
    def stalled(self) -> bool:
        """Stalled now, or the last run was stopped by the stall watchdog and none ran
        since: the fact the summary and `space_mirror_stalled` carry."""
        if self.running:
            return self.stalled_now
        return self.last_run is not None and self.last_run.stalled

    @property
    def delete_debt(self) -> bool:
        """rclone skipped deletes in 2+ runs in a row, and no dry run since found none due
        (only a dry run knows whether files are really gone from the source)."""
        return self.deletes_skipped_runs >= 2 and self.pending_deletes != 0


# What each reason is about, for views that sort or colour by it (the fleet).
STALE, NEVER, STALLED, SLOW, FAILED, DELETES, PERSISTENT, VERIFY = (
    "stale", "never", "stalled", "no-progress", "failed", "deletes-skipped", "persistent",
    "verify")


@dataclass(frozen=True)
class Verdict:
    code: int
    reasons: list[str] = field(default_factory=list)
    kinds: frozenset[str] = frozenset()

    @property
    def label(self) -> str:
        return LABELS[self.code]



def success_age(f: Facts) -> float | None:
    return None if f.last_success is None else max(0.0, f.now - f.last_success)


def evaluate(f: Facts) -> Verdict:
    reasons: list[tuple[int, str, str]] = []
    if not f.recorded and f.running is None:
        return Verdict(UNKNOWN, ["no run of this job is recorded yet"])
    age = success_age(f)
    if age is None:
        reasons.append((CRITICAL, "no successful sync recorded", NEVER))
    elif age > f.crit_after:
        reasons.append((CRITICAL, f"last success {age_text(age)} ago, over "
                                  f"{age_text(f.crit_after)}", STALE))
    elif age > f.warn_after:
        reasons.append((WARNING, f"last success {age_text(age)} ago, over "
                                 f"{age_text(f.warn_after)}", STALE))
    idle = f.no_progress_for
    if f.running is not None and idle is not None:
        if f.stall_timeout and idle >= f.stall_timeout:
            reasons.append((CRITICAL, f"running, stalled: no progress for {age_text(idle)}",
                            STALLED))
        elif is_stalled(idle, f.stall_timeout):
            reasons.append((WARNING, f"running, no progress for {age_text(idle)}", SLOW))
    lr = f.last_run
    if lr is not None and lr.mode == "sync" and lr.outcome != "success":
        reasons.append((WARNING, f"last run {lr.outcome} (exit {lr.exit_code})", FAILED))
    if lr is not None and lr.stalled and f.running is None:
        reasons.append((WARNING, "the last run stalled and the watchdog stopped it", STALLED))
    if f.delete_debt:
        owed = (f" ({f.pending_deletes} deletes due)" if f.pending_deletes else "")
        reasons.append((WARNING, f"deletes skipped in {f.deletes_skipped_runs} runs in a "
                                 f"row{owed}", DELETES))
    if f.persistent_files:
        worst = f.persistent[0] if f.persistent else None
        which = f" ({worst.path}: {worst.runs_in_a_row} runs in a row)" if worst else ""
        reasons.append((WARNING, f"{f.persistent_files} files fail run after run{which}",
                        PERSISTENT))
    cover = f.coverage
    if cover is not None and ((cover.complete_cycle and cover.overdue) or cover.differing):
        reasons.append((WARNING, cover.text(), VERIFY))
    code = max((c for c, _, _ in reasons), default=OK)
    return Verdict(code, [r for c, r, _ in sorted(reasons, key=lambda x: -x[0])],
                   frozenset(k for _, _, k in reasons))


def notes(f: Facts) -> list[str]:
    """The model's facts that need an operator, short (the overview's and fleet's rows)."""
    out: list[str] = []
    if f.stalled:
        out.append("stalled")
    if f.persistent:
        worst = f.persistent[0]
        noun = "file fails" if len(f.persistent) == 1 else "files fail"
        out.append(f"{len(f.persistent)} {noun} {worst.runs_in_a_row} runs in a row")
    if f.delete_debt:
        out.append(f"deletes skipped {f.deletes_skipped_runs} runs")
    lr = f.last_run
    previous = previous_text(f)
    if previous is not None and lr is not None and (lr.stalled or lr.outcome != "success"):
        out.append(f"last run {previous}")  # a run going now does not hide it
    if lr is not None and lr.partials_left:
        out.append(f"{lr.partials_left} partial files left")
    cover = f.coverage
    if cover is not None and cover.differing:
        out.append("verify found differences")
    elif cover is not None and cover.complete_cycle and cover.overdue:
        out.append(f"verify: {len(cover.overdue)} slice(s) overdue")
    return out


# What a job needs from its operator, most urgent first: the overview sorts, colours and
# counts its rows by it. `ok` needs nothing.
NEEDS = ("stalled", "failed", "stale", "running", "ok")
URGENT = NEEDS[:3]  # these come first; the rest keep the config's order


def need(f: Facts) -> str:
    """The most urgent of NEEDS for this job: stalled (now, or its last run was stopped by
    the watchdog), failed (its last real sync did not succeed), stale (no success within
    warn_after), running, or ok."""
    if f.stalled:
        return "stalled"
    lr = _ended(f.last_run)
    if f.running is None and lr is not None and lr.mode == "sync" and lr.outcome != "success":
        return "failed"
    age = success_age(f)
    # Never a success: stale once a run has ended (a first sync still going is not).
    if (age is not None and age > f.warn_after) or (age is None and lr is not None):
        return "stale"
    return "running" if f.running else "ok"


def _ended(lr: LastRun | None) -> LastRun | None:
    """The last run, if the summary records its end (a run in progress writes one without
    an outcome: `?`)."""
    return lr if lr is not None and lr.outcome != "?" else None


def previous_text(f: Facts) -> str | None:
    """While a run goes: how the one before it ended (`stalled`, `failed`, `succeeded`),
    so a running job does not hide that its last run needed the operator."""
    lr = _ended(f.last_run)
    if f.running is None or lr is None:
        return None
    word = "stalled" if lr.stalled else {"success": "succeeded"}.get(lr.outcome, lr.outcome)
    return f"{word} (dry run)" if lr.mode == "dry-run" else word


def last_good_text(f: Facts) -> str:
    """The last good mirror's age, as people say it; `never` when there was none."""
    age = success_age(f)
    return "never" if age is None else age_text(age)


def one_line(f: Facts, v: Verdict) -> str:
    """`SPACE-MIRROR WARNING - t: last success 27 h ago, over 26 h; … | perfdata`."""
    age = success_age(f)
    facts: list[str] = []
    if age is not None:
        facts.append(f"last success {age_text(age)} ago")
    lr = f.last_run
    if lr is not None:
        dry = " (dry run)" if lr.mode == "dry-run" else ""
        facts.append(f"last run {lr.outcome}{dry} (exit {lr.exit_code})")
    if f.last_real is not None:
        facts.append(f"last real sync {f.last_real.outcome} (exit {f.last_real.exit_code})")
    facts.append(f"running ({f.running})" if f.running else "not running")
    if f.deletes_skipped_runs:
        facts.append(f"deletes skipped {f.deletes_skipped_runs} runs")
    if f.pending_deletes is not None:
        facts.append(f"{f.pending_deletes} deletes pending")
    if f.persistent_files is not None:
        facts.append(f"{f.persistent_files} persistent failures")
    if lr is not None and lr.partials_left:
        facts.append(f"{lr.partials_left} partial files left")
    if f.coverage is not None:
        facts.append(f.coverage.text())
    lead = "; ".join(v.reasons) if v.reasons else "mirror healthy"
    perf = (f"age={int(age)}s;{int(f.warn_after)};{int(f.crit_after)};0"
            if age is not None else "")
    tail = f" | {perf}" if perf else ""
    return f"SPACE-MIRROR {v.label} - {f.job}: {lead} ({', '.join(facts)}){tail}"


def as_json(f: Facts, v: Verdict) -> dict[str, object]:
    lr = f.last_run
    return {
        "job": f.job, "status": v.label, "exit_code": v.code, "reasons": v.reasons,
        "now": f.now, "last_success": f.last_success, "last_success_age_s": success_age(f),
        "warn_after": f.warn_after, "crit_after": f.crit_after,
        "last_run": None if lr is None else {
            "run_id": lr.run_id, "mode": lr.mode, "outcome": lr.outcome,
            "exit_code": lr.exit_code, "ended": lr.ended, "reason": lr.reason,
            "stalled": lr.stalled, "partials_left": lr.partials_left},
        "running": f.running is not None, "lock_holder": f.running,
        "no_progress_for_s": f.no_progress_for,
        "stalled": f.stalled, "stalled_now": f.stalled_now,
        "deletes_skipped_runs": f.deletes_skipped_runs, "pending_deletes": f.pending_deletes,
        "persistent_failed_files": f.persistent_files,
        "persistent_failures": None if f.persistent is None else [
            p.as_json() for p in f.persistent],
        "verify_coverage": None if f.coverage is None else f.coverage.as_json(),
    }


def last_progress(events: list[Event], started: datetime | None) -> datetime | None:
    """When the run's counters last moved, by the times on rclone's stats lines (a stalled
    rclone repeats the same numbers every second). `started`: the run's start, when the
    events begin with it; None for a tail of a long run."""
    state = RunState()
    # Read from the start marker: zero is where the run began. Read from a tail of the log:
    # the first stats line there is the baseline.
    key = progress_key(state) if started is not None else None
    moved = started
    for event in events:
        state = apply(state, event)
        if isinstance(event, StatsUpdate):
            now_key = progress_key(state)
            if now_key != key:
                key = now_key
                when = parse_marker_time(event.time)
                moved = when or moved
    return moved
