"""The parser on real lines users pasted into rclone bug reports (tests/fixtures/real_errors):
continuation lines, journald prefixes, level-less fatal lines, summaries, objects."""

from __future__ import annotations

import json
from pathlib import Path

from tui.core.logline import LineParser, LogRecord, Unparsed, parse_line, real_name
from tui.core.triage import Tally, classify, is_consequence

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "real_errors" / "corpus.jsonl"
LINES = {json.loads(x)["source"] + "#" + str(i): json.loads(x)["line"]
         for i, x in enumerate(CORPUS.read_text(encoding="utf-8").splitlines())}


def _line(source: str, contains: str) -> str:
    return next(v for k, v in LINES.items() if k.startswith(source + "#") and contains in v)


def _records(text: str, attach: bool = True) -> list[LogRecord]:
    parser = LineParser(attach=attach)
    events = [e for raw in text.split("\n") for e in parser.feed(raw)] + parser.flush()
    return [e for e in events if isinstance(e, LogRecord)]


def test_aws_sdk_status_line_is_attached() -> None:
    text = _line("https://github.com/rclone/rclone/issues/4689", "not entitled")
    (rec,) = _records(text)
    assert (rec.level, rec.object, rec.msg) == ("ERROR", "test3.txt",
                                                "Failed to copy: AccessDenied: not entitled")
    assert rec.detail is not None and rec.detail.strip().startswith("status code: 403")
    assert classify(rec.msg, rec.detail, rec.object) == "permission"


def test_multierror_item_is_attached_and_is_the_cause() -> None:
    text = _line("https://github.com/rclone/rclone/issues/6793", "Failed to copy")
    (rec,) = _records(text)
    assert rec.level == "ERROR" and rec.object == "ubuntu-22.10-desktop-amd64.iso.torrent"
    assert rec.msg == "Failed to copy: update stor: 1 error occurred:"
    assert rec.detail == "\t* 426 Failure reading network stream."
    assert classify(rec.msg, rec.detail, rec.object) == "network"


def test_without_attach_continuations_stay_lines_of_their_own() -> None:
    """The live view shows every line as it comes."""
    text = _line("https://github.com/rclone/rclone/issues/6793", "Failed to copy")
    parser = LineParser()
    events = [e for raw in text.split("\n") for e in parser.feed(raw)]
    assert [type(e) for e in events] == [LogRecord, Unparsed]


def test_journald_prefix() -> None:
    event = parse_line(_line("https://github.com/rclone/rclone/issues/7527", "<3>ERROR"))
    assert isinstance(event, LogRecord) and event.level == "ERROR" and event.time == ""


def test_level_less_go_fatal_line_is_critical_and_names_no_file() -> None:
    event = parse_line(_line("https://github.com/rclone/rclone/issues/3768", "14:45:28"))
    assert isinstance(event, LogRecord) and event.is_error
    assert (event.level, event.object, event.msg) == (
        "CRITICAL", None, "Failed to copy: object not found")
    assert is_consequence(event.msg, event.object)


def test_failed_to_command_at_notice_is_a_consequence() -> None:
    event = parse_line(_line("https://github.com/s3s-project/s3s/issues/458", "NOTICE"))
    assert isinstance(event, LogRecord) and event.level == "NOTICE" and event.object is None
    assert is_consequence(event.msg, event.object)
    tally = Tally()
    assert tally.add(event.msg, example=event.text, obj=event.object) is None


def test_a_file_failing_to_copy_is_a_cause_not_a_summary() -> None:
    event = parse_line(_line("https://github.com/rclone/rclone/issues/3768", "14:44:20"))
    assert isinstance(event, LogRecord) and event.object == "some_long_filename"
    assert not is_consequence(event.msg, event.object)
    assert Tally().add(event.msg, example=event.text, obj=event.object) == "not-found"


def test_old_empty_object_is_the_root() -> None:
    event = parse_line(_line("https://github.com/rclone/rclone/issues/1439", "ERROR"))
    assert isinstance(event, LogRecord) and event.object == ""
    assert classify(event.msg, event.detail, event.object) == "source-missing"


def test_wrapped_errors_are_classed_by_their_innermost_cause() -> None:
    x509 = _line("https://github.com/rclone/rclone/issues/788", "x509")
    skew = _line("https://github.com/mlcommons/training/issues/746", "RequestTimeTooSkewed")
    (rec,) = _records(skew)
    assert classify(x509) == "network"
    assert classify(rec.msg, rec.detail, rec.object) == "auth"


def test_partial_temp_name_maps_to_the_real_file() -> None:
    # Names rclone 1.75 wrote here (tests/fixtures/history/mixed.log) and in issue 7527.
    assert real_name("c/new.txt.7dd01a78.partial") == "c/new.txt"
    assert real_name("x.pdf.dihaviw2.partial") == "x.pdf"
    assert real_name("c/new.txt") == "c/new.txt"
