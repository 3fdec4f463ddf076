"""Progress, stalls, the nightly window and the watchdog's limits: pure, clock injected."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tui.config import Job
from tui.core import exitcodes
from tui.core.logline import LineParser
from tui.core.progress import (
    ProgressWatch,
    done_percent,
    eta_text,
    idle_for,
    observe,
    progress_key,
    stall_reason,
    stopped_short,
)
from tui.core.runstate import RunState, apply_all
from tui.core.stats import Stats, Transfer
from tui.core.window import seconds_until
from tui.ops.run.watchdog import Watchdog, start_timeout, window_flags


def state(run: str = "r1", **stats: object) -> RunState:
    return RunState(run_id=run, stats=Stats(**stats))  # type: ignore[arg-type]


@pytest.mark.parametrize("field", ["bytes", "checks", "listed", "transfers", "deletes",
                                   "renames"])
def test_each_counter_is_progress(field: str) -> None:
    w = observe(ProgressWatch(), state(), 100.0)
    w = observe(w, state(), 150.0)
    assert idle_for(w, 150.0) == 50.0  # the same numbers again: no progress
    w = observe(w, state(**{field: 1}), 160.0)
    assert idle_for(w, 170.0) == 10.0


def test_per_file_lines_and_a_new_run_reset_the_watch() -> None:
    w = observe(ProgressWatch(), state(), 0.0)
    w = observe(w, replace(state(), copied=1), 30.0)
    assert idle_for(w, 30.0) == 0.0
    w = observe(w, state(run="r2"), 40.0)
    assert w.run_id == "r2" and idle_for(w, 45.0) == 5.0
    assert progress_key(state(bytes=5)) != progress_key(state())


def test_stall_reason_names_files_in_flight() -> None:
    t = Transfer("photos/a.jpg", 10, 10, 100, 0.0, None)
    assert stall_reason(1800, 1800, (t,)) == (
        "no progress for 30 min (stall_timeout); in flight: photos/a.jpg (100%)")
    assert stall_reason(5, 5, ()) == "no progress for 5s (stall_timeout); no file in flight"


def test_eta_is_a_dash_when_nothing_moves() -> None:
    assert eta_text(Stats(speed=0.0, eta=9223372036.0)) == "—"
    assert eta_text(Stats(speed=1.0, eta=9223372036.0)) == "—"  # rclone's 106751d
    assert eta_text(Stats(speed=1024.0, eta=112.0)) == "1m52s"
    assert eta_text(None) == "—"


def test_window_end_is_the_next_such_time_of_day() -> None:
    tz = timezone(timedelta(hours=2))
    at3 = datetime(2030, 1, 1, 3, 0, 0, tzinfo=tz)
    assert seconds_until("07:00", at3) == 4 * 3600
    assert seconds_until("07:00", at3.replace(hour=8)) == 23 * 3600
    with pytest.raises(ValueError):
        seconds_until("25:00", at3)
    job = Job(window_end="07:00")
    assert window_flags(job, at3) == ["--max-duration", "14400s", "--cutoff-mode", "soft"]
    assert window_flags(Job(), at3) == []


def test_watchdog_trips_on_stall_and_on_max_duration() -> None:
    now = [0.0]
    st = [state()]
    dog = Watchdog(Job(stall_timeout=60), lambda: st[0], clock=lambda: now[0])
    assert dog.check() is None
    now[0] = 59.0
    assert dog.check() is None
    st[0] = state(bytes=1)
    now[0] = 100.0
    assert dog.check() is None  # moved at 100
    now[0] = 160.0
    trip = dog.check()
    assert trip is not None and trip.code == exitcodes.STALLED
    assert trip.reason.startswith("no progress for 1 min")

    long = Watchdog(Job(stall_timeout=0, max_duration=10), lambda: state(), lambda: now[0])
    now[0] += 10
    trip = long.check()
    assert trip is not None and trip.code == exitcodes.TIMED_OUT
    off = Watchdog(Job(stall_timeout=0), lambda: state(), lambda: now[0])
    assert off.interval == 0.0 and off.check() is None


def test_start_timeout_follows_the_limits() -> None:
    assert start_timeout(Job()) is None
    assert start_timeout(Job(max_duration=3600, abort_grace=30)) == 3600 + 30 + 120
    assert start_timeout(Job(window_end="07:00")) == 24 * 3600 + 30 + 120


def test_a_copied_file_leaves_the_in_flight_list_until_the_next_stats_line() -> None:
    import json

    from tui.core.logline import LineParser
    from tui.core.progress import in_flight
    from tui.core.runstate import apply, apply_all

    def stats_line(*names: str) -> str:
        return json.dumps({"time": "2030-01-01T03:00:01Z", "level": "info", "msg": "stats",
                           "stats": {"bytes": 10, "transferring": [
                               {"name": n, "size": 5, "bytes": 5, "percentage": 100}
                               for n in names]}})

    copied = json.dumps({"time": "2030-01-01T03:00:02Z", "level": "info",
                         "msg": "Copied (new)", "object": "a.bin", "size": 5})
    lines = [stats_line("a.bin", "b.bin"), copied]
    events = [e for ln in lines for e in LineParser().feed(ln)]
    folded = RunState()
    for e in events:
        folded = apply(folded, e)
    batched = apply_all(RunState(), events)
    for st in (folded, batched):  # the two reducers agree
        assert [t.name for t in in_flight(st)] == ["b.bin"]
        assert st.finished == ("a.bin",)
    after = apply_all(batched, LineParser().feed(stats_line("b.bin")))
    assert after.finished == () and [t.name for t in in_flight(after)] == ["b.bin"]


def test_stall_reason_never_says_a_fraction_of_a_minute() -> None:
    """Issue 22, item 7: `stall_timeout = 100` read `no progress for 1.66667 min`."""
    assert stall_reason(100, 100, ()).startswith("no progress for 1m40s (stall_timeout)")
    assert stall_reason(90.5, 90.5, ()).startswith("no progress for 1m30s (stall_timeout)")


def test_a_stall_is_shown_within_ten_seconds_and_never_after_the_watchdog() -> None:
    """Issue 22, item 1: one threshold for the dashboard and the health model, shorter
    than any watchdog, so a stopped run has shown STALLED before it is stopped."""
    from tui.core.progress import is_stalled, stops_in

    assert not is_stalled(9.0, 1800) and is_stalled(10.0, 1800)
    assert is_stalled(5.0, 5.0) and not is_stalled(4.0, 5.0)
    assert not is_stalled(None, 1800)
    assert stops_in(60, 1800) == 1740 and stops_in(60, 0) is None



# -- a run that stopped short: what the bar calls done ---------------------------------------------
LOGS = Path(__file__).resolve().parents[1] / "snapshots" / "logs"


def _replayed(name: str) -> RunState:
    """A recorded real run's log (tests/snapshots/record_logs.py), folded as the dashboard
    folds it."""
    parser = LineParser()
    events = [e for line in (LOGS / name).read_text().splitlines() for e in parser.feed(line)]
    return apply_all(RunState(), [*events, *parser.flush()])


def test_an_aborted_run_is_done_by_its_finished_files_not_its_bytes_sent() -> None:
    state = _replayed("aborted.log")
    assert stopped_short(state) and state.stats is not None
    assert state.stats.percent is not None and state.stats.percent > 50  # bytes sent
    assert (state.transfers, state.stats.total_transfers) == (1, 6)
    assert done_percent(state) == pytest.approx(100 / 6)  # the one file kept


def test_a_succeeded_run_is_done_by_its_bytes() -> None:
    state = _replayed("idle.log")  # the last run succeeded
    assert not stopped_short(state) and state.stats is not None
    assert done_percent(state) == state.stats.percent == 100
