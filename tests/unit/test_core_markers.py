"""Start / end markers: round trip, quoting, and the legacy wrapper's `$(date)` form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from recorded_lines import lines_of

from tui.core.markers import (
    MarkerKind,
    format_end,
    format_start,
    parse_marker,
    parse_marker_time,
)

WHEN = datetime(2026, 11, 25, 3, 0, 1, tzinfo=UTC)
COUNTERS = {"bytes": "151552", "transfers": "4", "checks": "0", "deletes": "2",
            "renames": "1", "errors": "0", "elapsed": "12.5"}


def test_start_round_trip() -> None:
    line = format_start("20261125T030001-ab12", "space-mirror", "dry-run", 4242, WHEN,
                        {"by": "timer"})
    assert line == ("[2026-11-25T03:00:01+00:00] Starting Space Mirror... "
                    "run=20261125T030001-ab12 job=space-mirror mode=dry-run pid=4242 by=timer")
    m = parse_marker(line)
    assert m is not None and m.kind is MarkerKind.START
    assert m.time == WHEN and m.run_id == "20261125T030001-ab12" and m.dry_run
    assert m.int_field("pid") == 4242 and m.fields["by"] == "timer" and not m.legacy


@pytest.mark.parametrize(("kind", "code", "reason"), [
    (MarkerKind.COMPLETE, 0, None),
    (MarkerKind.FAILED, 3, "Directory not found (usually the source)."),
    (MarkerKind.FAILED, 78, 'pre-flight: env file: /x y.env has mode 0644; "quoted" = yes'),
    (MarkerKind.ABORTED, 143, "aborted by operator (SIGTERM)"),
    (MarkerKind.FAILED, 7, "line one\nline two\ttab \\ backslash"),
    (MarkerKind.FAILED, 1, "ünïcödé — fichier «x»"),
    (MarkerKind.FAILED, 1, ""),
])
def test_end_round_trip(kind: MarkerKind, code: int, reason: str | None) -> None:
    line = format_end(kind, "r1", code, WHEN, COUNTERS, reason)
    assert "\n" not in line
    m = parse_marker(line)
    assert m is not None
    assert m.kind is kind and m.exit_code == code and m.run_id == "r1"
    assert m.fields.get("reason") == reason
    for k, v in COUNTERS.items():
        assert m.fields[k] == v
    assert m.float_field("elapsed") == 12.5


def test_end_marker_prefixes_match_the_legacy_greps() -> None:
    assert format_end(MarkerKind.COMPLETE, "r", 0, WHEN, {}).startswith(
        "[2026-11-25T03:00:01+00:00] Space Mirror Complete.")
    assert "Space Mirror FAILED with exit code 7 " in format_end(
        MarkerKind.FAILED, "r", 7, WHEN, {}, "x")
    assert "Space Mirror ABORTED with exit code 143 " in format_end(
        MarkerKind.ABORTED, "r", 143, WHEN, {}, "x")
    with pytest.raises(ValueError):
        format_end(MarkerKind.START, "r", 0, WHEN, {})


@pytest.mark.parametrize(("text", "expected"), [
    ("Tue Nov 25 03:00:01 UTC 2026", datetime(2026, 11, 25, 3, 0, 1, tzinfo=UTC)),
    ("Wed Nov  5 03:00:01 UTC 2026", datetime(2026, 11, 5, 3, 0, 1, tzinfo=UTC)),
    ("Sun Mar  1 23:59:59 GMT 2026", datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC)),
    ("Tue Nov 25 03:00:01 +0100 2026",
     datetime(2026, 11, 25, 3, 0, 1, tzinfo=timezone(timedelta(hours=1)))),
    ("2026-11-25T03:00:01+00:00", datetime(2026, 11, 25, 3, 0, 1, tzinfo=UTC)),
    ("Tue Foo 25 03:00:01 UTC 2026", None),
    ("Tue Feb 31 03:00:01 UTC 2026", None),
    ("yesterday", None),
    ("", None),
])
def test_marker_times(text: str, expected: datetime | None) -> None:
    assert parse_marker_time(text) == expected


def test_named_zone_is_read_as_local_time() -> None:
    t = parse_marker_time("Tue Nov 25 03:00:01 CET 2026")
    assert t is not None and t.tzinfo is not None
    assert (t.year, t.month, t.day, t.hour, t.minute) == (2026, 11, 25, 3, 0)


def test_legacy_markers_recorded_with_the_real_date() -> None:
    markers = [parse_marker(ln) for ln in lines_of("legacy-wrapper.log") if ln.startswith("[")]
    assert [m.kind if m else None for m in markers] == [
        MarkerKind.START, MarkerKind.COMPLETE, MarkerKind.START, MarkerKind.FAILED]
    for m in markers:
        assert m is not None and m.legacy and m.run_id is None and m.time is not None
    assert markers[1] is not None and markers[1].exit_code == 0
    assert markers[3] is not None and markers[3].exit_code == 3


def test_runner_markers_recorded() -> None:
    markers = [parse_marker(ln) for ln in lines_of("runner.log") if ln.startswith("[")]
    assert all(m is not None for m in markers)
    starts = [m for m in markers if m and m.kind is MarkerKind.START]
    ends = [m for m in markers if m and m.kind is not MarkerKind.START]
    assert [m.run_id for m in starts] == [m.run_id for m in ends]
    assert [m.dry_run for m in starts] == [False, True]


@pytest.mark.parametrize("line", [
    "", "[2026-11-25] Something else", "Starting Space Mirror...", "[x] Space Mirror Finished.",
    "[x] Space Mirror FAILED with exit code", "[x] Space Mirror FAILED with exit code abc",
    "no brackets Space Mirror Complete.", "[unterminated Space Mirror Complete.",
])
def test_not_markers(line: str) -> None:
    assert parse_marker(line) is None


def test_marker_with_garbage_time_still_parses() -> None:
    m = parse_marker("[not a time] Space Mirror FAILED with exit code 5")
    assert m is not None and m.time is None and m.exit_code == 5 and m.legacy


def test_trailing_cr_and_bad_fields() -> None:
    m = parse_marker('[2026-11-25T03:00:01+00:00] Space Mirror Complete. run=a exit=zz '
                     'reason="unterminated\r\n')
    assert m is not None and m.exit_code == 0 and m.run_id == "a"
    assert m.int_field("exit") is None and m.float_field("nope") is None
