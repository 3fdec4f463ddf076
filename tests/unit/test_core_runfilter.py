"""History filters over runs scanned from a recorded real log (tests/fixtures/history), and
dates read in explicit zones: nothing here depends on today's date or the host's zone."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tui.core import runfilter
from tui.core.history import Run, scan_history
from tui.core.runstate import Outcome

MIXED = Path(__file__).resolve().parents[1] / "fixtures" / "history" / "mixed.log"
TOKYO = timezone(timedelta(hours=9))


@pytest.fixture(scope="module")
def runs() -> list[Run]:
    return scan_history(MIXED, use_cache=False).runs


def test_outcome_filter(runs: list[Run]) -> None:
    failed = runfilter.select(runs, runfilter.build("failed", None, None, None, UTC))
    assert len(failed) == 6 and {r.outcome for r in failed} == {Outcome.FAILED}
    both = runfilter.select(runs, runfilter.build("failed,aborted", None, None, None, UTC))
    assert len(both) == 8
    problems = runfilter.select(runs, runfilter.build("problem", None, None, None, UTC))
    assert {r.outcome for r in problems} == {Outcome.FAILED, Outcome.ABORTED,
                                             Outcome.INCOMPLETE}
    with pytest.raises(runfilter.FilterError, match="'faild' is not one of success"):
        runfilter.parse_outcomes("faild")


def test_search_over_ids_reasons_files_and_classes(runs: list[Run]) -> None:
    def ids(query: str) -> list[str]:
        return [r.id for r in runfilter.select(runs, runfilter.RunFilter(search=query))]

    assert ids("143055-bf90") == ["20261125T143055-bf90"]
    assert len(ids("network")) == 2  # the class, in a legacy and a runner run
    assert ids("c/NEW.txt") == ["legacy-20261125T143053Z-4", "20261125T143055-6740"]
    assert ids("categorised") == ["20261125T143055-6740"]  # in its reason only
    assert ids("NETWORK 143055") == ["20261125T143055-bf90"]  # every word, any case
    assert ids("pre-flight") == ["20261125T143054-bde9"]  # the reason of the exit-78 run
    assert ids("no-such-thing") == []
    assert len(ids("  ")) == len(runs)


def test_dates_are_whole_days_in_the_given_zone(runs: list[Run]) -> None:
    base = runs[-1]
    at = [replace(base, id=f"r{i}", started=datetime(2026, 11, d, h, 0, tzinfo=UTC))
          for i, (d, h) in enumerate([(24, 23), (25, 0), (25, 23), (26, 0)])]

    def ids(since: str | None, until: str | None, zone: object) -> list[str]:
        f = runfilter.build(None, since, until, None, zone)  # type: ignore[arg-type]
        return [r.id for r in runfilter.select(at, f)]

    assert ids("2026-11-25", "2026-11-25", UTC) == ["r1", "r2"]
    # The same day in Tokyo is 2026-11-24T15:00Z .. 2026-11-25T15:00Z.
    assert ids("2026-11-25", "2026-11-25", TOKYO) == ["r0", "r1"]
    assert ids("2026-11-25T00:00+09:00", "2026-11-25T23:59:59+09:00", UTC) == ["r0", "r1"]
    assert ids("2026-11-25T23:00Z", None, TOKYO) == ["r2", "r3"]  # inclusive lower bound
    assert ids(None, "2026-11-25T00:00Z", UTC) == ["r0", "r1"]  # --until a time: inclusive
    with pytest.raises(runfilter.FilterError, match="is not before --until"):
        runfilter.build(None, "2026-11-26", "2026-11-25", None, UTC)
    with pytest.raises(runfilter.FilterError, match="'last week' is not an ISO date"):
        runfilter.build(None, "last week", None, None, UTC)


def test_daylight_saving_is_the_dates_own(runs: list[Run]) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    summer = runfilter.parse_bound("2026-07-01", berlin, end=False)
    winter = runfilter.parse_bound("2026-12-01", berlin, end=False)
    assert summer.utcoffset() == timedelta(hours=2)
    assert winter.utcoffset() == timedelta(hours=1)


def test_jump_to_a_date(runs: list[Run]) -> None:
    at = [replace(runs[-1], id=f"r{d}", started=datetime(2026, 11, d, 3, tzinfo=UTC))
          for d in (20, 22, 25)]
    assert runfilter.first_on_or_after(at, datetime(2026, 11, 21, tzinfo=UTC)) == 1
    assert runfilter.first_on_or_after(at, datetime(2026, 11, 26, tzinfo=UTC)) is None


def test_outcome_cell_marks_dry_runs_at_every_width(runs: list[Run]) -> None:
    dry = replace(runs[0], dry_run=True, outcome=Outcome.FAILED)
    cells = {w: runfilter.outcome_cell(dry, w) for w in (30, 16, 12, 8, 6, 3)}
    assert cells == {30: "failed (dry run)", 16: "failed (dry run)", 12: "dry failed",
                     8: "D failed", 6: "D fail", 3: "D f"}
    assert all(c.startswith(("D", "dry", "failed (dry")) for c in cells.values())
    verify = replace(runs[0], mode="verify", outcome=Outcome.SUCCESS)
    assert runfilter.outcome_cell(verify, 20) == "success (verify)"
    assert runfilter.outcome_cell(verify, 9) == "V success"
    assert runfilter.outcome_cell(runs[0], 20) == str(runs[0].outcome)
