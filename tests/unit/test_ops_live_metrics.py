"""tui/ops/monitor/live_metrics.py's text: the live series replace their last rewrite and
leave every other series of the file alone; the text is one valid exposition (each family once); and
fleet_cli's table fits 80 columns."""

from __future__ import annotations

import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tui.config import Job
from tui.core.runstate import RunState
from tui.core.stats import Stats
from tui.fleet_cli import table
from tui.ops.monitor import live_metrics, metrics

sys.path.insert(0, str(Path(__file__).parents[1] / "snapshots"))


def samples(text: str) -> dict[str, float]:
    return {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples}


def test_live_series_replace_their_last_rewrite_only() -> None:
    job = Job(name="photos", stall_timeout=600.0)
    start = metrics.in_progress_text('space_mirror_last_run_success{job="photos"} 1\n',
                                     job.name, 1000.0)
    one = live_metrics.merged_text(start, job.name, live_metrics.live_samples(
        job, RunState(stats=Stats(bytes=10, total_bytes=100, eta=9.0)), 2.0, 1010.0,
        "v1.75.2"))
    two = live_metrics.merged_text(one, job.name, live_metrics.live_samples(
        job, RunState(stats=Stats(bytes=40, total_bytes=100)), 0.0, 1020.0, None))
    got = samples(two)
    assert got["space_mirror_run_bytes_done"] == 40
    assert got["space_mirror_run_last_progress_timestamp_seconds"] == 1020
    assert got["space_mirror_last_run_success"] == 1 and got["space_mirror_run_in_progress"] == 1
    assert got["space_mirror_run_stall_timeout_seconds"] == 600
    assert "space_mirror_run_eta_seconds" not in got  # unknown: absent, never a made-up 0
    assert "space_mirror_rclone_info" not in got  # the version could not be told this time
    assert two.count("# HELP space_mirror_run_bytes_done ") == 1


def test_before_rclones_first_stats_only_the_timing_is_written() -> None:
    got = samples(live_metrics.merged_text("", "j", live_metrics.live_samples(
        Job(name="j"), RunState(), 0.0, 5.0, "v1.75.2")))
    assert "space_mirror_run_bytes_total" not in got
    assert got["space_mirror_run_seconds_since_progress"] == 0
    assert got["space_mirror_rclone_info"] == 1


def test_the_text_table_fits_80_columns() -> None:
    from fleet_scenes import NOW, answers

    from tui.core import fleet

    lines = table(fleet.build_rows(answers(5, 3), NOW))
    assert len(lines) == 17 and lines[2].split()[2] == "stalled"
    assert max(len(line) for line in lines[1:]) <= 80
