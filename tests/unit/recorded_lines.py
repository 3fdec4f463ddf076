"""Access to the real rclone logs recorded by tests/fixtures/record.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tui.core.logline import Event, LineParser

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MANIFEST: dict[str, Any] = json.loads((FIXTURES / "manifest.json").read_text())
JSON_LOGS = sorted(k for k, v in MANIFEST.items() if v.get("format") == "json")
TEXT_LOGS = sorted(k for k, v in MANIFEST.items() if v.get("format") == "text")
OTHER_LOGS = ["legacy-wrapper.log", "runner.log"]
ALL_LOGS = JSON_LOGS + TEXT_LOGS + OTHER_LOGS


def lines_of(rel: str) -> list[str]:
    return (FIXTURES / rel).read_text(encoding="utf-8").splitlines()


def raw_lines_of(rel: str) -> list[bytes]:
    return (FIXTURES / rel).read_bytes().split(b"\n")


def json_objects(rel: str) -> list[dict[str, Any]]:
    return [json.loads(ln) for ln in lines_of(rel) if ln.startswith("{")]


def json_stats_lines() -> list[tuple[str, int, str]]:
    """(log, line number, line) for every JSON stats line recorded."""
    out = []
    for rel in [*JSON_LOGS, "runner.log"]:
        for i, ln in enumerate(lines_of(rel)):
            if ln.startswith("{") and '"stats":' in ln:
                out.append((rel, i, ln))
    return out


def events_of(lines: list[str]) -> list[Event]:
    """Feed lines in order through one LineParser (which joins text stats blocks)."""
    p = LineParser()
    out: list[Event] = []
    for ln in lines:
        out += p.feed(ln)
    return out + p.flush()


def text_blocks(rel: str) -> list[list[str]]:
    """The text-format stats blocks of a recorded log: each is its header line (ending in
    `INFO  : ` or `NOTICE: `) followed by its lines, up to (not including) the blank line."""
    lines = lines_of(rel)
    blocks: list[list[str]] = []
    for i, ln in enumerate(lines):
        if ln[:4].isdigit() and ln.rstrip().endswith(":"):
            end = lines.index("", i)
            blocks.append(lines[i:end])
    return blocks


def inflight_block(rel: str) -> list[str]:
    """The first text stats block that lists files in flight."""
    return next(b for b in text_blocks(rel) if "Transferring:" in b)
