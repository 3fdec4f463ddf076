"""The pure part of `verify`: sampling, rclone check's --combined report, the markers and
the history notes. The combined text below is what rclone 1.75.2 wrote for a real check."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tui.config import Job
from tui.core.markers import MarkerKind, format_end, format_start, parse_marker
from tui.core.verify import (
    counts_from_fields,
    history_note,
    parse_combined,
    percent_problem,
    pick_indexes,
    sample,
    summary,
)
from tui.ops import systemd

RECORDED_COMBINED = "+ c\n= a\n* b\n= d/e\n"
WHEN = datetime(2026, 11, 29, 4, 0, 1, tzinfo=UTC)


def test_sample_size_and_repeatability() -> None:
    names = [f"f{i}" for i in range(40)]
    assert len(sample(names, 10, random.Random(1))) == 4
    assert len(sample(names, 0.1, random.Random(1))) == 1  # at least one
    assert sample(names, 100, random.Random(1)) == names  # in the listing's order
    assert pick_indexes(10_000_000, 0.001, random.Random(3)) == sorted(
        pick_indexes(10_000_000, 0.001, random.Random(3)))  # no list of names needed
    assert len(pick_indexes(10_000_000, 0.001, random.Random(3))) == 100
    assert sample(names, 10, random.Random(7)) == sample(names, 10, random.Random(7))
    assert sample([], 50, random.Random(1)) == []
    draws = {tuple(sample(names, 10, random.Random(s))) for s in range(20)}
    assert len(draws) > 10  # random, not the first files every week


@pytest.mark.parametrize("bad", [0, -1, 100.5, float("nan")])
def test_percent_problem(bad: float) -> None:
    assert percent_problem(bad) is not None
    assert percent_problem(5) is None and percent_problem(100) is None


def test_parse_recorded_combined() -> None:
    r = parse_combined(RECORDED_COMBINED + "! broken\n- only-at-dest\njunk\n")
    assert (r.same, r.missing, r.differ, r.errors, r.extra) == (2, 1, 1, 1, 1)
    assert r.differences == 3 and r.checked == 5
    assert r.examples == (("missing", "c"), ("differ", "b"), ("error", "broken"))
    assert summary(r, 5) == ("3 differences in 5 sampled files: 1 missing on destination "
                             "(e.g. c), 1 differ (e.g. b), 1 error (e.g. broken)")
    assert summary(parse_combined("= a\n"), 1) == "no differences in 1 sampled file"


def test_verify_markers_round_trip_and_stay_out_of_sync_greps() -> None:
    start = format_start("r1", "t", "verify", 9, WHEN, {"sampled": "4"})
    end = format_end(MarkerKind.FAILED, "r1", 1, WHEN,
                     {"mode": "verify", "missing": "1", "differ": "0", "sampled": "4",
                      "differences": "1", "unreadable": "0"}, "1 difference")
    assert start.startswith("[2026-11-29T04:00:01+00:00] Starting Space Mirror verify... run=r1")
    assert "] Space Mirror verify FAILED with exit code 1 run=r1" in end
    assert "Starting Space Mirror..." not in start and "Space Mirror FAILED" not in end
    s, e = parse_marker(start), parse_marker(end)
    assert s is not None and s.kind is MarkerKind.START and s.verify and s.run_id == "r1"
    assert e is not None and e.kind is MarkerKind.FAILED and e.verify and e.exit_code == 1
    complete = parse_marker("[2026-11-29T04:00:01+00:00] Space Mirror verify Complete. run=r1")
    assert complete is not None and complete.kind is MarkerKind.COMPLETE and complete.verify
    sync = parse_marker(format_start("r2", "t", "sync", 9, WHEN))
    assert sync is not None and not sync.verify
    counts = counts_from_fields(e.fields)
    assert counts == {"sampled": 4, "differences": 1, "missing": 1, "differ": 0,
                      "unreadable": 0}
    assert history_note(counts) == "verify: 4 sampled, 1 missing on destination, 0 differ, 0 errors"
    assert history_note({"sampled": 4, "differences": 0}) == "verify: 4 sampled, no differences"
    assert counts_from_fields({"run": "x"}) is None


def test_weekly_verify_units() -> None:
    job = Job(name="photos", source="/photos", destination="/mnt/mirror", env_file=None)
    problem, units = systemd.verify_units(job, Path("/etc/space-mirror/config.toml"), "sunday",
                                          2.5)
    assert problem is None and units is not None
    service, timer = units
    assert "verify --sample 2.5 --job photos" in service
    assert "Description=space-mirror: verify a sample of /photos to /mnt/mirror" in service
    assert "OnCalendar=Sun *-*-* 05:00:00" in timer
    assert systemd.verify_units(job, None, "Sunn", None)[0] == (
        "--verify 'Sunn' is not a weekday; use one of Mon, Tue, Wed, Thu, Fri, Sat, Sun or daily")
    assert systemd.verify_units(job, None, None, 5)[0] == (
        "--verify-sample needs --verify WEEKDAY (or --verify daily)")
    assert "run --job photos" in systemd.service_unit(job, None)  # the sync unit unchanged


def test_daily_rotating_verify_units() -> None:
    job = Job(name="photos", source="/photos", destination="/mnt/mirror", env_file=None)
    problem, units = systemd.verify_units(job, None, "daily", None, 14)
    assert problem is None and units is not None
    service, timer = units
    assert "verify --rotate 14 --job photos" in service
    assert "Description=space-mirror: verify the next slice of /photos" in service
    assert "OnCalendar=*-*-* 05:00:00" in timer and "Daily rotating (1/14 a run)" in timer
    assert systemd.verify_units(job, None, "daily", None, 1)[0] == (
        "--verify-rotate 1 is not a number of slices from 2 to 10000 (e.g. 14: every file "
        "checked within 14 verify runs)")
    assert "exclude each other" in (systemd.verify_units(job, None, "Sun", 5, 14)[0] or "")
