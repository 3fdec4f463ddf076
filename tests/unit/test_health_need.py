"""Issue 22, item 3: what a job needs, from the health model (core/health.need), which the
overview sorts, colours and counts by."""

from __future__ import annotations

from tui.core.health import Facts, LastRun, need, previous_text

H = 3600.0
NOW = 2_000_000_000.0


def facts(**kw: object) -> Facts:
    base: dict[str, object] = dict(job="t", now=NOW, warn_after=26 * H, crit_after=50 * H,
                                   stall_timeout=1800, recorded=True)
    base.update(kw)
    return Facts(**base)  # type: ignore[arg-type]


def run(outcome: str, mode: str = "sync", stalled: bool = False) -> LastRun:
    return LastRun("r", mode, outcome, 0 if outcome == "success" else 1, NOW - H, None,
                   stalled=stalled)


def test_needs_most_urgent_first() -> None:
    assert need(facts(running="pid 1", no_progress_for=30.0,
                      last_success=NOW - H)) == "stalled"
    assert need(facts(last_run=run("failed"), last_success=NOW - H)) == "failed"
    assert need(facts(last_run=run("success"), last_success=NOW - 30 * H)) == "stale"
    assert need(facts(running="pid 1", no_progress_for=1.0, last_success=NOW - H,
                      last_run=run("success"))) == "running"
    assert need(facts(last_run=run("success"), last_success=NOW - H)) == "ok"


def test_a_first_sync_in_progress_is_not_stale() -> None:
    """A run in progress writes a summary with no outcome yet (`?`): no run has ended, so
    "never a success" is not yet a need; once one has ended with none, it is."""
    going = facts(running="pid 1", no_progress_for=1.0, last_run=run("?"))
    assert need(going) == "running" and previous_text(going) is None
    assert need(facts(last_run=run("failed"), running="pid 1", no_progress_for=1.0)) == \
        "stale"


def test_a_running_job_says_how_its_previous_run_ended() -> None:
    f = facts(running="pid 1", no_progress_for=1.0, last_success=NOW - H,
              last_run=run("failed", stalled=True))
    assert previous_text(f) == "stalled"
    assert previous_text(facts(last_run=run("failed"))) is None  # not running: no "prev"
