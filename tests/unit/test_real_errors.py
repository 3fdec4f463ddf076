"""Triage on real output: ERROR lines users pasted into public rclone bug reports.

Each line goes through the parser the history and the dashboard use (journald prefixes,
level-less fatal lines, continuation lines), then through triage, as a log line would.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui.core.logline import LineParser, LogRecord
from tui.core.triage import CLASSES, classify, is_consequence

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "real_errors" / "corpus.jsonl"
RECORDS = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]
TARGET = 0.95


def _parse(line: str) -> tuple[str, str | None, str | None]:
    """(message, detail, object) as the history would see this pasted line."""
    parser = LineParser(attach=True)
    events = [e for raw in line.split("\n") for e in parser.feed(raw)] + parser.flush()
    rec = next((e for e in events if isinstance(e, LogRecord)), None)
    if rec is None:  # a fragment the user cut out of its line (no time stamp or level)
        first, _, rest = line.partition("\n")
        return first, rest or None, None
    return rec.msg, rec.detail, rec.object


def test_corpus_is_big_and_sourced() -> None:
    classed = [r for r in RECORDS if r["class"] != "consequence"]
    assert len(classed) >= 150
    for r in RECORDS:
        assert r["class"] in (*CLASSES, "consequence")
        assert r["source"].startswith("https://github.com/")
        assert r["line"].strip() == r["line"].strip("\n").strip() and r["line"]


def test_classify_real_lines_at_least_95_percent() -> None:
    misses = []
    classed = [r for r in RECORDS if r["class"] != "consequence"]
    for r in classed:
        msg, detail, obj = _parse(r["line"])
        got = "consequence" if is_consequence(msg, obj) and obj is not None else \
            classify(msg, detail, obj)
        if got != r["class"]:
            misses.append(f"{r['class']} -> {got}: {r['line'][:160]}")
    accuracy = 1 - len(misses) / len(classed)
    assert accuracy >= TARGET, "\n".join(misses)


@pytest.mark.parametrize("record", [r for r in RECORDS if r["class"] == "consequence"],
                         ids=lambda r: r["line"][:60])
def test_summary_lines_are_consequences(record: dict[str, str]) -> None:
    msg, _, obj = _parse(record["line"])
    assert is_consequence(msg, obj) or is_consequence(record["line"])
