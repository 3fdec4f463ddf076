"""The ETA from history ("usually 14 min …") and the chart rules, over runs scanned from the
recorded fixture log with their times set (no clock is read)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tui.core.charts import log_trend, spark_samples
from tui.core.history import Run, scan_history
from tui.core.runstate import Outcome
from tui.core.typical import about, usual_duration, usual_eta_text

MIXED = Path(__file__).resolve().parents[1] / "fixtures" / "history" / "mixed.log"
T0 = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def success() -> Run:
    runs = scan_history(MIXED, use_cache=False).runs
    return next(r for r in runs if r.outcome is Outcome.SUCCESS and not r.legacy)


def timed(run: Run, day: int, minutes: float, **kw: object) -> Run:
    start = T0 + timedelta(days=day)
    return replace(run, id=f"d{day}", started=start, ended=start + timedelta(minutes=minutes),
                   elapsed=None, **kw)  # type: ignore[arg-type]


def test_usually_is_the_median_of_the_last_similar_successes(success: Run) -> None:
    runs = [timed(success, d, m) for d, m in enumerate([100, 12, 13, 14, 15, 16, 14, 13, 14,
                                                         15, 14, 13])]
    runs.append(timed(success, 20, 2, outcome=Outcome.FAILED))  # cut short: not similar
    runs.append(timed(success, 21, 1, dry_run=True))  # another kind
    runs.append(timed(success, 22, 1, mode="verify"))
    assert usual_duration(runs, dry_run=False) == 14 * 60  # the 100-min run is 11 runs back
    assert usual_eta_text(runs, dry_run=False) == (
        "usually 14 min (median of the last 10 similar runs)")
    assert usual_eta_text(runs, dry_run=False, elapsed=11 * 60) == (
        "usually 14 min, 3 min left (median of the last 10 similar runs)")
    assert usual_eta_text(runs, dry_run=False, elapsed=20 * 60) == (
        "usually 14 min, longer than usual (median of the last 10 similar runs)")
    assert usual_eta_text(runs, dry_run=False, rclone_eta=30.0) is None  # rclone's figure wins
    assert usual_eta_text(runs, dry_run=True) == "usually 60 s (the last similar run)"
    assert usual_eta_text(runs[-3:-1], dry_run=False) is None  # only a failure and a dry run


def test_about() -> None:
    assert [about(s) for s in (40, 89, 90, 14 * 60 + 20, 125 * 60)] == [
        "40 s", "89 s", "2 min", "14 min", "2 h 05 min"]


def test_sparkline_needs_two_samples() -> None:
    assert spark_samples([]) == [] and spark_samples([5.0]) == []
    assert spark_samples([5, 7]) == [5.0, 7.0]


def test_log_trend_shows_the_outlier_without_flattening_the_rest() -> None:
    gib = 1024**3
    values = [1 * gib, 2 * gib, 1.5 * gib, 883 * gib, 1 * gib]
    trend = log_trend(values)
    assert trend is not None
    assert trend.outliers == (3,) and (trend.low, trend.high) == (gib, 883 * gib)
    # On a linear scale the others are ≤ 0.23 % of the max; on this one they keep ≥ 75 %.
    assert min(trend.data) / max(trend.data) > 0.75
    assert log_trend([]) is None
