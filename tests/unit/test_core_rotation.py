"""tui/core/rotation.py: the rotation's state and its coverage (pure; `now` is a fact)."""

from __future__ import annotations

from tui.core import rotation as r

DAY = 86400.0


def run_cycle(state: r.Rotation, start: float, differences: dict[int, int] | None = None
              ) -> r.Rotation:
    for i in range(state.slices):
        k = state.next
        state = r.advance(state, start + i * DAY, 10, (differences or {}).get(k, 0))
    return state


def test_a_cycle_proves_the_whole_tree_and_ages_by_its_oldest_slice() -> None:
    state = r.start(None, 14)
    assert r.coverage(state, 0).text() == ("verified 0% within the last 0 runs (rotation of "
                                           "14); first cycle, 14 slices to go")
    state = run_cycle(state, 0.0)
    cover = r.coverage(state, 13 * DAY + 3600)
    assert cover.ratio == 1.0 and cover.overdue == () and cover.complete_cycle
    assert cover.text() == "verified 100% within the last 14 runs; oldest slice 13 d"
    assert state.next == 0 and state.runs == 14


def test_a_difference_leaves_its_slice_unproven_until_it_is_checked_again() -> None:
    state = run_cycle(r.start(None, 4), 0.0, {2: 3})
    cover = r.coverage(state, 4 * DAY)
    assert cover.proven == 3 and cover.differing == (2,) and cover.overdue == (2,)
    assert cover.oldest_age is None  # a slice was never proven: the age is unknown
    assert "differences in slice 2; overdue: slice 2" in cover.text()
    state = run_cycle(state, 4 * DAY)  # the next cycle finds it intact
    assert r.coverage(state, 8 * DAY).ratio == 1.0


def test_a_slice_missing_from_the_last_n_runs_is_overdue() -> None:
    # A state whose slice 1 was last proven before the window of the last N runs.
    state = r.Rotation(3, 0, 6, {0: r.SliceCheck(4, 0, 1, 0), 1: r.SliceCheck(2, 0, 1, 0),
                                 2: r.SliceCheck(6, 0, 1, 0)})
    cover = r.coverage(state, 10.0)
    assert cover.overdue == (1,) and cover.proven == 2


def test_state_round_trip_and_damage() -> None:
    state = run_cycle(r.start(None, 3), 0.0)
    assert r.from_json(state.as_json()) == state
    assert r.loads(b"{not json") is None
    assert r.loads(b'{"slices": 3, "next": 7, "runs": 1}') is None
    assert r.loads(b'{"slices": 1, "next": 0, "runs": 1}') is None
    assert r.start(state, 5) == r.Rotation(5)  # another N: other slices, a new rotation


def test_hash_filter_needs_rclone_1_70() -> None:
    assert r.hash_filter_problem("v1.75.2") is None
    assert r.hash_filter_problem("v1.70.0") is None
    old = r.hash_filter_problem("v1.60.1-DEV")
    assert old is not None and "needs rclone 1.70.0 or newer" in old and "v1.60.1-DEV" in old
    assert r.hash_filter_problem(None) is not None
    assert r.rotate_problem(14) is None and r.rotate_problem(1) is not None


def test_the_health_model_carries_the_coverage() -> None:
    from tui.core import health

    state = run_cycle(r.start(None, 4), 0.0, {1: 2})
    facts = health.Facts(job="t", now=5 * DAY, warn_after=DAY, crit_after=2 * DAY,
                         stall_timeout=0, recorded=True, last_success=5 * DAY - 60,
                         coverage=r.coverage(state, 5 * DAY))
    verdict = health.evaluate(facts)
    assert verdict.code == health.WARNING
    assert verdict.reasons == ["verified 75% within the last 4 runs; differences in slice 1; "
                               "overdue: slice 1"]
    assert health.notes(facts) == ["verify found differences"]
    assert health.as_json(facts, verdict)["verify_coverage"]["differing_slices"] == [1]
    assert "verified 75% within the last 4 runs" in health.one_line(facts, verdict)
