"""Stats from rclone's JSON object and from its text block, over real recorded lines."""

from __future__ import annotations

import json
import re

import pytest
from recorded_lines import MANIFEST, inflight_block, json_stats_lines, text_blocks

from tui.core.stats import Stats, go_duration, parse_size

STATS_LINES = json_stats_lines()


@pytest.mark.parametrize(("log", "lineno", "line"), STATS_LINES,
                         ids=[f"{log}:{n}" for log, n, _ in STATS_LINES])
def test_json_stats_fields_are_rclones(log: str, lineno: int, line: str) -> None:
    obj = json.loads(line)["stats"]
    s = Stats.from_json(obj)
    assert s.bytes == obj["bytes"]
    assert s.total_bytes == obj["totalBytes"]
    assert s.transfers == obj["transfers"]
    assert s.total_transfers == obj["totalTransfers"]
    assert s.checks == obj["checks"]
    assert s.deletes == obj["deletes"]
    assert s.renames == obj["renames"]
    assert s.errors == obj["errors"]
    assert s.listed == obj["listed"]
    assert s.elapsed == pytest.approx(obj["elapsedTime"])
    assert s.eta == obj["eta"]
    assert len(s.transferring) == len(obj.get("transferring") or [])
    for t, raw in zip(s.transferring, obj.get("transferring") or [], strict=True):
        assert (t.name, t.size, t.bytes, t.percentage) == (
            raw["name"], raw["size"], raw["bytes"], raw["percentage"])


@pytest.mark.parametrize(("log", "lineno", "line"), STATS_LINES,
                         ids=[f"{log}:{n}" for log, n, _ in STATS_LINES])
def test_text_block_agrees_with_json(log: str, lineno: int, line: str) -> None:
    """rclone puts the text block in the JSON line's `msg`: both forms describe one
    snapshot, so the humanised text must parse back to the exact JSON numbers."""
    rec = json.loads(line)
    exact = Stats.from_json(rec["stats"])
    text = Stats.from_text(rec["msg"])
    assert text is not None
    for name in ("transfers", "total_transfers", "checks", "total_checks", "deletes",
                 "renames", "errors", "listed"):
        assert getattr(text, name) == getattr(exact, name), name
    # rclone prints sizes with four significant digits.
    assert text.bytes == pytest.approx(exact.bytes, rel=0.001, abs=1)
    assert text.total_bytes == pytest.approx(exact.total_bytes, rel=0.001, abs=1)
    assert text.elapsed == pytest.approx(exact.elapsed, abs=0.051)
    assert [t.name for t in text.transferring] == [t.name for t in exact.transferring]


def test_in_flight_stats_were_recorded() -> None:
    """The throttled recording holds in-flight stats (otherwise the tests above are thin)."""
    inflight = [json.loads(ln)["stats"] for log, _, ln in STATS_LINES if log == "json/slow.log"]
    assert any(s.get("transferring") for s in inflight)
    s = Stats.from_json(next(s for s in inflight if s.get("transferring")))
    assert s.transferring[0].name == "big.bin"
    assert 0 < s.bytes < s.total_bytes
    assert s.percent is not None and 0 < s.percent < 100


def test_text_transferring_entries() -> None:
    lines = inflight_block("text/slow.log")[1:]
    s = Stats.from_text("\n".join(lines))
    assert s is not None
    assert s.transfers in (0, 1) and s.total_transfers == 2  # small.txt may go first
    (t,) = s.transferring
    assert t.name == "big.bin"
    assert t.size == parse_size("2.500 MiB") == 2_621_440
    printed = re.search(r"big\.bin: (\d+)%", lines[-1])
    assert printed is not None and 0 < t.percentage == int(printed[1]) < 100
    assert t.bytes == t.size * t.percentage // 100


def test_text_block_with_errors_deletes_and_renames() -> None:
    blocks = {
        "errors": "Transferred:   \t 0 B / 0 B, -, 0 B/s, ETA -\n"
                  "Errors:                 1 (retrying may help)\n"
                  "Checks:                 0 / 0, -, Listed 3\nElapsed time:         0.0s",
        "dry": "\n".join(text_blocks("text/dryrun.log")[-1][1:]),
    }
    err = Stats.from_text(blocks["errors"])
    assert err is not None and err.errors == 1 and err.retry_error and not err.fatal_error
    dry = Stats.from_text(blocks["dry"])
    assert dry is not None
    assert (dry.deletes, dry.deleted_dirs, dry.renames, dry.checks) == (1, 0, 1, 5)
    final = MANIFEST["text/dryrun.log"]["final"]
    assert (dry.transfers, dry.bytes) == (final["transfers"], final["bytes"])


@pytest.mark.parametrize("block", ["", "hello world", "Transferred: nonsense",
                                   "Checks: x / y", "\x00\x00"])
def test_text_block_without_stats_is_none(block: str) -> None:
    assert Stats.from_text(block) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("0 B", 0),
    ("148 KiB", 148 * 1024),
    ("2.009 MiB", int(2.009 * 1024**2)),
    ("1.5 GiB", int(1.5 * 1024**3)),
    ("3 TiB", 3 * 1024**4),
    ("1.5M", int(1.5 * 1024**2)),  # rclone < 1.56
    ("3 MBytes", 3 * 1024**2),
    ("1.013 MiB/s", int(1.013 * 1024**2)),
    ("12 Bytes", 12),
    ("abc", None),
    ("", None),
    ("5 parsecs", None),
])
def test_parse_size(text: str, expected: int | None) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize(("text", "seconds"), [
    ("0.0s", 0.0),
    ("1.0s", 1.0),
    ("2.5s", 2.5),
    ("1m0s", 60.0),
    ("1h2m3.5s", 3723.5),
    ("2d3h", 2 * 86400 + 3 * 3600),
    ("250ms", 0.25),
    ("1h0m0s", 3600.0),
    ("", 0.0),
    ("garbage", 0.0),
])
def test_parse_duration(text: str, seconds: float) -> None:
    assert go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("obj", [
    {},
    {"bytes": "12", "transfers": None, "eta": "soon", "transferring": "x"},
    {"bytes": True, "speed": [], "transferring": [None, 3, {"name": 5}]},
    {"bytes": 1.9e3, "elapsedTime": 3},
])
def test_json_stats_tolerates_mistyped_fields(obj: dict[str, object]) -> None:
    s = Stats.from_json(obj)
    assert isinstance(s.bytes, int) and isinstance(s.elapsed, float)
    assert s.eta is None or isinstance(s.eta, float)
