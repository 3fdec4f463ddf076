"""Notifications, the pure part: which state a job is in for the person on call, whether that
is news, and the message that tells them what they need (tui/ops/monitor/notify_apprise.py
sends it).

Every fact comes from the health model (tui/core/health.py `Facts`, gathered once) and from
the run's own error tally (tui/core/remedy.py `ErrorCount`): nothing here is computed twice.

    stalled    the watchdog stopped the last run (or a running sync makes no progress)
    failure    the last real sync failed
    stale      the last good mirror is older than crit_after (or there never was one)
    ok         none of these: after a problem, the `recovered` message closes it

A message goes out once per change of state: a second failed night is no news. A verify
has a state of its own (differences found, or ok again), told as `failure` / `recovered`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tui.core.health import Facts, last_good_text, success_age
from tui.core.remedy import ErrorCount, JobFacts, remedy, short_example
from tui.core.rotation import Coverage
from tui.core.runstate import Outcome
from tui.core.units import age_text
from tui.core.verify import LABELS as VERIFY_LABELS

PROBLEMS = ("failure", "stalled", "stale")
OK = "ok"
MAX_FILES = 5
TITLES = {"failure": "FAILED", "stalled": "STALLED", "stale": "STALE", "recovered": "recovered"}
# Real syncs that ended without their work done, not by an operator's abort: rclone's
# failure, rclone dead of a signal (the OOM killer's SIGKILL), a run whose log stops short.
FAILURES = frozenset({Outcome.FAILED, Outcome.KILLED, Outcome.INCOMPLETE})


def notice_state(f: Facts) -> str | None:
    """The job's state for notifications; None when the facts say nothing new (no run
    recorded, or the last run was a dry run or an operator's abort)."""
    if f.stalled:
        return "stalled"
    lr = f.last_run
    if lr is not None and lr.mode == "sync" and lr.outcome in FAILURES:
        return "failure"
    age = success_age(f)
    if f.recorded and (age is None or age > f.crit_after):
        return "stale"
    if lr is not None and lr.mode == "sync" and lr.outcome == "success":
        return OK
    return None


def decide(previous: str | None, current: str | None) -> str | None:
    """The event to tell (failure, stalled, stale, recovered), or None: no change, or a
    change that is no news (from unknown to ok)."""
    if current is None or current == previous:
        return None
    if current == OK:
        return "recovered" if previous in PROBLEMS else None
    return current


@dataclass(frozen=True)
class Message:
    event: str
    title: str
    body: str


def compose(event: str, f: Facts, job: JobFacts, host: str,
            errors: ErrorCount | None = None) -> Message:
    """`space-mirror photos on nas1: FAILED`, then what happened, the error class with its
    count, what to do, the first failing files, the last good mirror's age, and the command
    that shows more."""
    lines: list[str] = []
    lr = f.last_run
    if event == "stale":
        age = success_age(f)
        lines.append("The last good mirror is " + (
            "missing: no sync has succeeded yet" if age is None else
            f"{age_text(age)} old, over crit_after ({age_text(f.crit_after)})") + ".")
    if lr is not None and (event != "stale" or lr.outcome != "success"):
        lines.append(f"Last run {lr.run_id or '?'}: {lr.outcome} (exit {lr.exit_code}).")
    classes = errors.classes if errors is not None else ()
    if event == "failure" and classes:
        main = classes[0]
        more = f" (+{len(classes) - 1} other class{'es' if len(classes) > 2 else ''})" \
            if len(classes) > 1 else ""
        lines.append(f"Error class: {main.cls} ×{main.count}{more}.")
        lines.append(f"What to do: {remedy(main.cls, job, main.example)}.")
    elif event in ("failure", "stalled", "stale") and lr is not None and lr.reason:
        lines.append(f"Why: {lr.reason}")
    if event == "stalled":
        # The watchdog's verdict leads; errors logged while rclone was stopped are its echo.
        lines.append("Error class: stalled. What to do: find what blocks the transfer (the "
                     "destination's reachability, a hung mount or disk); the next run "
                     "continues where this one stopped.")
    if event == "stale" and (lr is None or lr.outcome == "success"):
        lines.append(f"What to do: check that the job's timer runs (`systemctl list-timers "
                     f"'space-mirror*'`) and `space-mirror history --job {job.name}`.")
    files = errors.files if errors is not None else ()
    if event == "failure" and files:
        shown = [short_example(p) for p in files[:MAX_FILES]]
        extra = f" (+{len(files) - MAX_FILES} more)" if len(files) > MAX_FILES else ""
        lines.append("Files: " + ", ".join(shown) + extra + ".")
    if f.persistent:
        worst = f.persistent[0]
        lines.append(f"Failing run after run: {len(f.persistent)} file(s), {worst.path} "
                     f"{worst.runs_in_a_row} runs in a row.")
    if event == "recovered":
        lines.append("The last sync succeeded: the mirror is current again.")
    lines.append(f"Last good mirror: {last_good_text(f)}"
                 + (" ago." if success_age(f) is not None else "."))
    if f.coverage is not None:
        lines.append(f"Verification: {f.coverage.text()}.")
    lines.append(f"More: space-mirror history --job {job.name} (or status --job {job.name}).")
    title = f"space-mirror {job.name} on {host}: {TITLES[event]}"
    return Message(event, title, "\n".join(lines))


def verify_state(differences: int, coverage: Coverage | None) -> str:
    """`differences` while the last verify found some, or a rotation's slice still holds
    some (until its next check proves it); else ok."""
    return "differences" if differences or (coverage and coverage.differing) else OK


def decide_verify(previous: str | None, current: str) -> str | None:
    if current == previous:
        return None
    if current == OK:
        return "recovered" if previous == "differences" else None
    return "failure"


def compose_verify(event: str, job: JobFacts, host: str, summary: str,
                   examples: Sequence[tuple[str, str]], remedy_text: str,
                   coverage: Coverage | None, run_id: str) -> Message:
    """What a verify found, by file, with what to do."""
    lines: list[str] = []
    if event == "recovered":
        lines.append(f"Verify {run_id}: the mirror's differences are gone ({summary}).")
    else:
        lines.append(f"Verify {run_id} found differences: {summary}.")
        for cls, path in examples[:MAX_FILES]:
            lines.append(f"  {VERIFY_LABELS.get(cls, cls)}: {path}")
        if len(examples) > MAX_FILES:
            lines.append(f"  … and {len(examples) - MAX_FILES} more")
        if remedy_text:
            lines.append(f"What to do: {remedy_text}.")
    if coverage is not None:
        lines.append(f"Verification: {coverage.text()}.")
    lines.append(f"More: space-mirror history --job {job.name} (the verify's ERROR lines).")
    word = "verify: differences" if event != "recovered" else "verify: recovered"
    return Message(event, f"space-mirror {job.name} on {host}: {word}", "\n".join(lines))
