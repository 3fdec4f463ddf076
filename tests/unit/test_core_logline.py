"""One line → one event, over every line rclone and our runner really wrote."""

from __future__ import annotations

import json

import pytest
from recorded_lines import (
    ALL_LOGS,
    JSON_LOGS,
    MANIFEST,
    TEXT_LOGS,
    events_of,
    inflight_block,
    lines_of,
    raw_lines_of,
)

from tui.core.logline import (
    MAX_LINE_CHARS,
    LineParser,
    LogRecord,
    MarkerLine,
    StatsUpdate,
    Unparsed,
    decode,
    parse_line,
)
from tui.core.markers import MarkerKind

JSON_LINES = [(rel, i, ln) for rel in [*JSON_LOGS, "runner.log"]
              for i, ln in enumerate(lines_of(rel)) if ln.startswith("{")]


@pytest.mark.parametrize(("rel", "i", "line"), JSON_LINES,
                         ids=[f"{r}:{i}" for r, i, _ in JSON_LINES])
def test_json_lines(rel: str, i: int, line: str) -> None:
    obj = json.loads(line)
    event = parse_line(line)
    if "stats" in obj:
        assert isinstance(event, StatsUpdate)
        assert event.stats.bytes == obj["stats"]["bytes"]
        assert event.time == obj["time"]
    else:
        assert isinstance(event, LogRecord)
        assert event.level == obj["level"].upper()
        assert event.msg == obj["msg"]
        assert event.object == obj.get("object")
        assert event.size == obj.get("size")
        assert event.skipped == obj.get("skipped")
        assert event.is_error == (obj["level"] == "error")


def test_dry_run_skips_carry_the_action() -> None:
    events = [parse_line(ln) for ln in lines_of("json/dryrun.log")]
    skipped = {e.skipped for e in events if isinstance(e, LogRecord) and e.skipped}
    assert {"copy", "delete", "move to docs/a-moved.txt"} <= skipped


TEXT_RECORDS = [(rel, ln) for rel in [*TEXT_LOGS, "legacy-wrapper.log"]
                for ln in lines_of(rel) if ln[:4].isdigit() and not ln.rstrip().endswith(":")]


@pytest.mark.parametrize(("rel", "line"), TEXT_RECORDS)
def test_text_lines(rel: str, line: str) -> None:
    event = parse_line(line)
    assert isinstance(event, LogRecord)
    level = line[20:].split(":", 1)[0].strip()
    assert event.level == level
    assert event.time == line[:19]
    assert event.text and line.endswith(" " + event.text)


@pytest.mark.parametrize(("line", "obj", "msg"), [
    ("2026/11/25 14:36:14 INFO  : docs/a.txt: Copied (new)", "docs/a.txt", "Copied (new)"),
    ("2026/11/25 14:36:14 INFO  : Local file system at /DST: Making map for --track-renames",
     "Local file system at /DST", "Making map for --track-renames"),
    ("2026/11/25 14:36:14 INFO  : There was nothing to transfer", None,
     "There was nothing to transfer"),
    ('2026/11/25 14:36:14 INFO  : docs/a-renamed.txt: Renamed from "docs/a.txt"',
     "docs/a-renamed.txt", 'Renamed from "docs/a.txt"'),
    # rclone's summary of a command names no file (issue 12: "Failed to copy" is no file).
    ("2026/11/25 14:36:20 NOTICE: Failed to sync: directory not found", None,
     "Failed to sync: directory not found"),
])
def test_text_object_and_message(line: str, obj: str | None, msg: str) -> None:
    event = parse_line(line)
    assert isinstance(event, LogRecord)
    assert (event.object, event.msg) == (obj, msg)


@pytest.mark.parametrize("rel", TEXT_LOGS)
def test_text_stats_blocks_are_joined(rel: str) -> None:
    lines = lines_of(rel)
    events = events_of(lines)
    blocks = sum(1 for ln in lines if ln[:4].isdigit() and ln.rstrip().endswith(":"))
    stats = [e for e in events if isinstance(e, StatsUpdate)]
    assert len(stats) == blocks > 0
    final = MANIFEST[rel]["final"]
    last = stats[-1].stats
    assert (last.transfers, last.checks, last.deletes, last.renames, last.errors) == (
        final["transfers"], final["checks"], final["deletes"], final["renames"],
        final["errors"])
    # no stats line leaks out as an unparsed line
    assert not [e for e in events if isinstance(e, Unparsed) and e.text.strip()]


@pytest.mark.parametrize("rel", ALL_LOGS)
def test_every_recorded_line_parses_without_loss(rel: str) -> None:
    lines = lines_of(rel)
    events = events_of(lines)
    assert events
    unparsed = [e for e in events if isinstance(e, Unparsed) and e.text.strip()]
    assert unparsed == []


def test_markers_in_the_runner_log() -> None:
    events = events_of(lines_of("runner.log"))
    kinds = [e.marker.kind for e in events if isinstance(e, MarkerLine)]
    assert kinds == [MarkerKind.START, MarkerKind.COMPLETE, MarkerKind.START,
                     MarkerKind.COMPLETE]


def test_legacy_markers_around_text_logs() -> None:
    events = events_of(lines_of("legacy-wrapper.log"))
    markers = [e.marker for e in events if isinstance(e, MarkerLine)]
    assert [m.kind for m in markers] == [MarkerKind.START, MarkerKind.COMPLETE,
                                         MarkerKind.START, MarkerKind.FAILED]
    assert all(m.legacy for m in markers)
    assert markers[-1].exit_code == 3


@pytest.mark.parametrize("line", [
    "", " ", "hello", "{not json", "{", "[1, 2, 3]", '"just a string"', "[not a marker]",
    "[] Starting", "2026/13/45 99:99:99 WHAT  : x", "Transferred: 1 / 2",
    "\ufffd\ufffd", "{\"stats\": 5}", "null",
])
def test_garbage_never_raises(line: str) -> None:
    event = parse_line(line)
    assert isinstance(event, (Unparsed, LogRecord))
    if not line.startswith("{"):
        assert isinstance(event, Unparsed)


def test_json_that_is_not_an_object_is_unparsed() -> None:
    assert isinstance(parse_line("[1, 2]"), Unparsed)
    assert isinstance(parse_line('{"a": '), Unparsed)
    assert isinstance(parse_line("{1: 2}"), Unparsed)


def test_invalid_utf8_is_replaced() -> None:
    raw = b'{"time":"t","level":"info","msg":"Copied (new)","object":"caf\xe9\xff.txt"}'
    text = decode(raw)
    assert "\ufffd" in text
    event = parse_line(text)
    assert isinstance(event, LogRecord) and event.msg == "Copied (new)"
    assert event.object is not None and event.object.startswith("caf")


def test_nul_bytes_are_replaced() -> None:
    text = decode(b"2026/11/25 14:36:14 INFO  : a\x00b: Copied (new)\n")
    assert "\x00" not in text
    event = parse_line(text)
    assert isinstance(event, LogRecord) and event.msg == "Copied (new)"


def test_huge_line_is_cut() -> None:
    """That the cut makes it cheap is measured by `make bench` (huge-line), not here."""
    raw = b'{"level":"info","msg":"' + b"x" * 20_000_000 + b'"}'
    text = decode(raw)
    event = parse_line(text)
    assert len(text) == MAX_LINE_CHARS + 1 and text.endswith("…")
    assert isinstance(event, Unparsed)  # the cut JSON no longer parses: shown, not lost


def test_crlf_is_stripped() -> None:
    assert decode(b"hello\r\n") == "hello"


def test_stats_block_cut_short_by_a_marker() -> None:
    lines = inflight_block("text/slow.log")[:4]  # a block without its closing blank line
    lines.append("[2026-11-25T03:00:01+00:00] Space Mirror Complete. run=x exit=0")
    events = events_of(lines)
    assert [type(e) for e in events] == [StatsUpdate, MarkerLine]


def test_stats_block_at_end_of_input_is_flushed() -> None:
    p = LineParser()
    out = []
    for ln in inflight_block("text/slow.log"):
        out += p.feed(ln)
    assert out == []
    flushed = p.flush()
    assert len(flushed) == 1 and isinstance(flushed[0], StatsUpdate)
    assert p.flush() == []


def test_raw_bytes_with_invalid_utf8_in_a_text_block() -> None:
    lines = [decode(b) for b in raw_lines_of("text/slow.log")]
    at = lines.index(inflight_block("text/slow.log")[-1])  # the `* big.bin: …` line
    lines[at] = decode(b" *     b\xffig.bin: 41% / 2.500 MiB, 0 B/s, -")
    events = events_of(lines)
    assert any(isinstance(e, StatsUpdate) and e.stats.transferring for e in events)


@pytest.mark.parametrize("rel", ["text/colon.log", "json/colon.log"])
def test_file_names_with_colons(rel: str) -> None:
    """`Meeting: notes.txt: Copied (new)`: the object keeps its own ": "."""
    records = [e for e in events_of(lines_of(rel)) if isinstance(e, LogRecord)]
    by_msg = {r.msg: r.object for r in records if r.object}
    assert by_msg["Copied (new)"] == "New: Copied (new).txt"
    assert by_msg["Deleted"] == "a: b: c.txt"
