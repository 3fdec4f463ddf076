"""The reducer: real logs in, the run's story out."""

from __future__ import annotations

import functools

import pytest
from recorded_lines import MANIFEST, TEXT_LOGS, events_of, lines_of

from tui.core.logline import LogRecord, MarkerLine, StatsUpdate, parse_line
from tui.core.markers import MarkerKind, parse_marker
from tui.core.progress import in_flight
from tui.core.runstate import (
    RECENT_ERRORS,
    Outcome,
    Phase,
    RunState,
    apply,
    apply_all,
    outcome_for,
)


def runs_of(rel: str) -> list[tuple[RunState, str]]:
    """Each run's final state, and its end-marker line."""
    state = RunState()
    out = []
    for ev in events_of(lines_of(rel)):
        state = apply(state, ev)
        if isinstance(ev, MarkerLine) and ev.marker.kind is not MarkerKind.START:
            out.append((state, ev.text))
    return out


def test_runner_log_counters_match_the_end_markers() -> None:
    """The reducer rebuilds from the log exactly what the runner wrote in its end marker."""
    runs = runs_of("runner.log")
    assert len(runs) == 2
    for state, line in runs:
        marker = parse_marker(line)
        assert marker is not None
        assert state.phase is Phase.ENDED and state.outcome is Outcome.SUCCESS
        assert state.run_id == marker.run_id
        for k, v in state.counters().items():
            if k != "elapsed":
                assert v == marker.fields[k], k
    first, dry = runs[0][0], runs[1][0]
    assert not first.dry_run and dry.dry_run
    assert (first.transfers, first.bytes) == (4, 151552)
    assert (dry.deletes, dry.renames) == (1, 1)


def test_legacy_log_two_runs() -> None:
    runs = runs_of("legacy-wrapper.log")
    (ok, _), (bad, _) = runs
    assert ok.outcome is Outcome.SUCCESS and ok.legacy and ok.transfers == 4
    assert bad.outcome is Outcome.FAILED and bad.exit_code == 3
    assert bad.deletes_skipped_for_io_errors
    assert bad.errors == 1
    assert any("directory not found" in e for e in bad.recent_errors)


@pytest.mark.parametrize("rel", TEXT_LOGS)
def test_text_runs_without_markers(rel: str) -> None:
    state = apply_all(RunState(), events_of(lines_of(rel)))
    final = MANIFEST[rel]["final"]
    assert state.phase is Phase.IDLE  # no marker: a bare rclone log
    assert (state.transfers, state.deletes, state.renames, state.errors) == (
        final["transfers"], final["deletes"], final["renames"], final["errors"])


def test_counts_from_file_lines_without_stats() -> None:
    """Killed before its final stats: the per-file lines still count."""
    lines = [ln for ln in lines_of("json/copy.log") if '"stats"' not in ln]
    state = apply_all(RunState(), events_of(lines))
    # Issue 22: the bytes agree with the transfers (the copied files' sizes), never 0.
    import json
    sent = sum(json.loads(ln).get("size", 0) for ln in lines
               if ln.startswith("{") and '"Copied (' in ln)
    assert state.stats is None and state.transfers == 4 and state.bytes == sent > 0
    one_by_one = RunState()
    for event in events_of(lines):
        one_by_one = apply(one_by_one, event)
    assert one_by_one.bytes == state.bytes


def test_new_start_marker_resets() -> None:
    lines = lines_of("runner.log")
    first_end = next(i for i, ln in enumerate(lines) if "Space Mirror Complete." in ln)
    state = apply_all(RunState(), events_of(lines[:first_end]))  # a run still going
    assert state.transfers == 4
    start = "[2026-11-25T04:00:00+00:00] Starting Space Mirror... run=new job=t mode=sync pid=9"
    state = apply(state, parse_line(start))
    assert state.running and state.run_id == "new" and state.transfers == 0
    assert state.outcome is Outcome.RUNNING and state.pid == 9


def test_end_without_start() -> None:
    state = apply(RunState(), parse_line(
        "[2026-11-25T03:00:01+00:00] Space Mirror ABORTED with exit code 143 run=zz "
        'reason="aborted by operator (SIGTERM)"'))
    assert state.phase is Phase.ENDED and state.run_id == "zz"
    assert state.outcome is Outcome.ABORTED and state.reason == "aborted by operator (SIGTERM)"


def test_apply_is_pure() -> None:
    state = RunState()
    ev = LogRecord("t", "ERROR", "boom", "x")
    new = apply(state, ev)
    assert state == RunState() and new is not state
    assert new.error_lines == 1 and new.recent_errors == ("x: boom",)


def test_recent_errors_are_bounded() -> None:
    state = apply_all(RunState(), [LogRecord("t", "ERROR", f"e{i}") for i in range(100)])
    assert len(state.recent_errors) == RECENT_ERRORS
    assert state.recent_errors[-1] == "e99" and state.error_lines == 100


@pytest.mark.parametrize(("kind", "code", "outcome"), [
    (MarkerKind.COMPLETE, 0, Outcome.SUCCESS),
    (MarkerKind.FAILED, 3, Outcome.FAILED),
    (MarkerKind.FAILED, 78, Outcome.FAILED),
    (MarkerKind.ABORTED, 143, Outcome.ABORTED),
    (MarkerKind.FAILED, 130, Outcome.ABORTED),
    (MarkerKind.FAILED, 137, Outcome.KILLED),
    (MarkerKind.FAILED, -9, Outcome.KILLED),
])
def test_outcome_for(kind: MarkerKind, code: int, outcome: Outcome) -> None:
    assert outcome_for(kind, code) is outcome


def test_colon_file_names_are_counted() -> None:
    lines = [ln for ln in lines_of("text/colon.log") if ln[:4].isdigit()]
    state = apply_all(RunState(), events_of([ln for ln in lines if ln.rstrip()[-1] != ":"]))
    assert state.stats is None  # no stats block: the counts come from the file lines alone
    assert (state.copied, state.deleted) == (1, 1)


ALL_RECORDED = ["runner.log", "legacy-wrapper.log",
                *(f"json/{n}" for n in ("copy.log", "rename.log", "delete.log", "dryrun.log",
                                         "slow.log", "missing-source.log", "colon.log")),
                *(f"text/{n}" for n in ("copy.log", "rename.log", "delete.log", "slow.log",
                                         "missing-source.log", "dryrun.log", "colon.log"))]


@pytest.mark.parametrize("rel", ALL_RECORDED)
@pytest.mark.parametrize("batch", [1, 3, 50, 100_000])
def test_apply_all_equals_folding_apply(rel: str, batch: int) -> None:
    """The batch fast path the live path uses gives exactly the per-event result."""
    events = events_of(lines_of(rel))
    folded = RunState()
    for ev in events:
        folded = apply(folded, ev)
    batched = RunState()
    for i in range(0, len(events), batch):
        batched = apply_all(batched, events[i:i + batch])
    assert batched == folded


def test_stats_after_the_end_marker_do_not_change_the_final_counters() -> None:
    state, _ = runs_of("runner.log")[-1]
    late = parse_line('{"time":"2026-11-25T03:00:09Z","level":"info","msg":"x",'
                      '"stats":{"bytes":1,"transfers":999,"deletes":999}}')
    after = apply(state, late)
    assert after.transfers == state.transfers and after.deletes == state.deletes
    assert after.lines == state.lines + 1


def test_end_marker_counters_win_over_a_stale_stats_line() -> None:
    start = parse_line("[2026-11-25T03:00:01+00:00] Starting Space Mirror... run=r job=j "
                       "mode=sync pid=1")
    stale = parse_line('{"time":"2026-11-25T03:00:02Z","level":"info","msg":"x",'
                       '"stats":{"bytes":10,"transfers":3,"totalTransfers":40}}')
    end = parse_line("[2026-11-25T03:00:09+00:00] Space Mirror Complete. run=r exit=0 "
                     "bytes=400 transfers=40 checks=2 deletes=1 renames=1 errors=0 "
                     "elapsed=8.0")
    state = apply_all(RunState(), [start, stale, end])
    assert (state.bytes, state.transfers, state.deletes, state.renames) == (400, 40, 1, 1)
    assert state.elapsed == 8.0 and state.outcome is Outcome.SUCCESS
    assert state.stats is not None and state.stats.total_transfers == 40  # kept from stats


# -- the in-flight list (issue 10 item 4) ------------------------------------------------


def _in_flight(state: RunState) -> list[str]:
    return [t.name for t in in_flight(state)]


def _slow_events() -> list[object]:
    """Recorded: a stats line lists big.bin at 81%, then `big.bin: Copied (new)`."""
    return list(events_of(lines_of("json/slow.log")))


@pytest.mark.parametrize("fold", ["apply", "apply_all"])
def test_a_copied_file_leaves_the_in_flight_list_at_once(fold: str) -> None:
    events = _slow_events()
    copied = next(i for i, ev in enumerate(events) if isinstance(ev, LogRecord)
                  and ev.msg.startswith("Copied (") and ev.object == "big.bin")
    before = RunState()
    for ev in events[:copied]:
        before = apply(before, ev)  # type: ignore[arg-type]
    assert _in_flight(before) == ["big.bin"]
    if fold == "apply":
        after = apply(before, events[copied])  # type: ignore[arg-type]
    else:
        after = apply_all(before, [events[copied]])  # type: ignore[arg-type]
    assert _in_flight(after) == []
    assert after.copied == before.copied + 1


def test_a_stale_stats_line_does_not_bring_a_finished_file_back() -> None:
    """rclone logs `Copied` before it drops the file from its list, so the next stats line
    can still show it (at 100%): it stays gone."""
    events = _slow_events()
    stats_with_big = [ev for ev in events if isinstance(ev, StatsUpdate)
                      and any(t.name == "big.bin" for t in ev.stats.transferring)]
    copied = next(ev for ev in events if isinstance(ev, LogRecord) and ev.object == "big.bin"
                  and ev.msg.startswith("Copied ("))
    for fold in (lambda evs: apply_all(RunState(), evs),
                 lambda evs: functools.reduce(apply, evs, RunState())):
        state = fold([stats_with_big[-1], copied, stats_with_big[-1]])
        assert _in_flight(state) == []
    # Once a stats line no longer lists it, the name is forgotten (the tuple stays small) …
    empty = next(ev for ev in reversed(events) if isinstance(ev, StatsUpdate)
                 and not ev.stats.transferring)
    state = apply(state, empty)
    assert state.finished == ()
    # … and a new transfer of the same name (a retry) shows again.
    state = apply(state, stats_with_big[-1])
    assert _in_flight(state) == ["big.bin"]
