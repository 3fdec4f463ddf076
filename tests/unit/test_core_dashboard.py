"""DashboardModel: the one answer to "is a sync live?" (issue 14 item 1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tui.core.dashboard import (
    PREFLIGHT,
    STARTING,
    AbortSent,
    DashboardModel,
    LaunchFailed,
    LogRead,
    PreflightRefused,
    Probed,
    Requested,
    RunnerExited,
    RunnerLaunched,
    reduce,
)
from tui.core.runstate import Outcome, Phase, RunState
from tui.core.stats import Stats

T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
RUNNING = RunState(phase=Phase.RUNNING, run_id="r1", outcome=Outcome.RUNNING)
ENDED = RunState(phase=Phase.ENDED, run_id="r1", outcome=Outcome.SUCCESS, exit_code=0)


@dataclass(frozen=True)
class Holder:
    mode: str = "sync"
    started_by: str = "timer"


def fold(*events: object, model: DashboardModel | None = None) -> DashboardModel:
    m = model or DashboardModel()
    for ev in events:
        m = reduce(m, ev)  # type: ignore[arg-type]
    return m


def test_a_new_model_is_idle() -> None:
    m = DashboardModel()
    assert not m.live and not m.busy and not m.interrupted and m.refusal() is None


def test_the_lock_alone_makes_it_live() -> None:
    m = fold(Probed(Holder()))
    assert m.live and m.busy and m.probes == 1
    assert m.refusal() is not None and "already running" in m.refusal()  # type: ignore[operator]


def test_the_log_alone_makes_it_live_until_two_probes_miss() -> None:
    m = fold(LogRead(RUNNING, "cli", True))
    assert m.live and not m.interrupted
    m = fold(Probed(None), model=m)
    assert m.live  # one miss can be the lock changing hands
    m = fold(Probed(None), model=m)
    assert m.interrupted and not m.live and m.refusal() is None


def test_a_found_process_resets_the_misses() -> None:
    m = fold(LogRead(RUNNING, "cli", True), Probed(None), Probed(Holder()), Probed(None))
    assert m.misses == 1 and m.live


def test_a_new_run_in_the_log_resets_the_misses() -> None:
    m = fold(LogRead(RUNNING, "cli", True), Probed(None), Probed(None))
    assert m.interrupted
    m = fold(LogRead(RunState(phase=Phase.RUNNING, run_id="r2"), "timer", True), model=m)
    assert not m.interrupted and m.live


def test_the_launch_cycle() -> None:
    m = fold(LogRead(ENDED, "cli", True), Requested())
    assert m.pending == PREFLIGHT and m.busy and not m.live
    assert m.refusal() == f"Already busy: {PREFLIGHT} …"
    m = fold(RunnerLaunched(), model=m)
    assert m.pending == STARTING and m.run_before_launch == "r1"
    # The same run re-read does not end the wait; our run's start marker does.
    m = fold(LogRead(ENDED, "cli", True), model=m)
    assert m.pending == STARTING
    m = fold(LogRead(RunState(phase=Phase.RUNNING, run_id="r2"), "dashboard", True), model=m)
    assert m.pending is None and m.live


def test_the_lock_also_ends_the_wait_for_the_start() -> None:
    m = fold(Requested(), RunnerLaunched(), Probed(Holder(started_by="dashboard")))
    assert m.pending is None and m.live


def test_a_refused_or_failed_launch_is_idle_again() -> None:
    assert fold(Requested(), PreflightRefused()).pending is None
    failed = fold(Requested(), LaunchFailed("boom"))
    assert failed.pending is None and not failed.busy


def test_the_runner_exiting_is_recorded() -> None:
    m = fold(Requested(), RunnerLaunched(), RunnerExited(78, "refused"))
    assert m.pending is None and m.last_exit == (78, "refused")


def test_aborting_lasts_until_the_run_ends() -> None:
    m = fold(LogRead(RUNNING, "cli", True), Probed(Holder()), AbortSent(None))
    assert m.aborting
    assert fold(AbortSent("no such process"), model=fold(LogRead(RUNNING, "cli", True))) \
        .aborting is False
    m = fold(LogRead(ENDED, "cli", True), model=m)
    assert not m.aborting


def test_aborting_ends_when_nothing_runs_and_the_log_never_started() -> None:
    m = fold(Probed(Holder()), AbortSent(None))
    assert m.aborting
    assert not fold(Probed(None), model=m).aborting


def test_stalled_counts_from_the_last_byte_that_moved() -> None:
    first = RunState(phase=Phase.RUNNING, run_id="r1", stats=Stats(bytes=10))
    m = fold(LogRead(first, "cli", True, at=T0), Probed(Holder()))
    assert m.stalled_for(T0 + timedelta(seconds=30)) == 30
    m = fold(LogRead(first, "cli", True, at=T0 + timedelta(seconds=60)), model=m)
    assert m.stalled_for(T0 + timedelta(seconds=90)) == 90  # same bytes: still stalled
    moved = RunState(phase=Phase.RUNNING, run_id="r1", stats=Stats(bytes=20))
    m = fold(LogRead(moved, "cli", True, at=T0 + timedelta(seconds=100)), model=m)
    assert m.stalled_for(T0 + timedelta(seconds=101)) == 1
    assert fold(LogRead(ENDED, "cli", True), Probed(None), model=m).stalled_for(T0) is None


def test_log_updates_are_counted() -> None:
    assert fold(LogRead(ENDED, None, False), LogRead(ENDED, None, True)).log_updates == 2
