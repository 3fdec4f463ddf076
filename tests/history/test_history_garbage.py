"""Garbage in the log never stops the scan: each piece becomes a warning, runs survive."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.history.checks import check_run
from tests.history.realruns import Expect
from tui.core.history import scan_history


def _runs_bytes(mixed_log: Path) -> list[bytes]:
    """The fixture log cut into its runs (at each start marker's line)."""
    data = mixed_log.read_bytes()
    parts = data.split(b"\n[")
    out, cur = [], parts[0]
    for p in parts[1:]:
        if b"Starting Space Mirror..." in p.split(b"\n", 1)[0]:
            out.append(cur + b"\n")
            cur = b"[" + p
        else:
            cur += b"\n[" + p
    out.append(cur)
    return out


def test_garbage_between_runs(mixed_log: Path, tmp_path: Path) -> None:
    runs = _runs_bytes(mixed_log)
    assert len(runs) == 14
    junk = [
        os.urandom(0) + bytes(range(256)) * 8 + b"\n",  # binary junk with NULs
        b"\x00" * 5000,  # a NUL-filled block (no newline: a crash mid-write)
        b"2026/11/25 03:00:00 INFO  : caf\xe9\xff\xfe.txt: Copied (new)\n",  # not UTF-8
        b"x" * (2 * 1024 * 1024) + b"\n",  # a 2 MB line
    ]
    # Invalid UTF-8 inside a run too (a NOTICE line, so no counter changes).
    runs[0] = runs[0].replace(b"Copied (new)\n", b"Copied (new)\n2026/11/25 03:00:00 NOTICE: "
                              b"\xff\xfe.bin: Can't follow symlink without -L/--copy-links\n", 1)
    blob = b""
    for i, run in enumerate(runs):
        blob += run
        if i < len(junk):
            blob += junk[i]
    blob += b"2026/11/25 03:00:00 INFO  : half a li"  # truncated last line
    log = tmp_path / "space-mirror.log"
    log.write_bytes(blob)
    history = scan_history(log, cache_dir=tmp_path / "cache")
    expected = [Expect(e) for e in json.loads(
        (mixed_log.parent / "mixed.expected.json").read_text())]
    assert len(history.runs) == 14
    for i, (run, exp) in enumerate(zip(history.runs, expected, strict=True)):
        check_run(run, exp, legacy=i < 7)
    messages = [str(w) for w in history.warnings]
    assert any("NUL bytes" in m for m in messages)
    bad_utf8 = [w for w in history.warnings if "invalid UTF-8" in w.message]
    assert {blob[w.offset] for w in bad_utf8 if w.offset is not None} >= {0xFF, 0xE9}
    assert any("a line of 2097153 bytes" in m for m in messages)
    assert any("last line has no newline" in m for m in messages)
    # Each warning names the file and the byte offset.
    assert all(w.file == str(log) and w.offset is not None for w in history.warnings)
    # The offset really points at the junk.
    nul = next(w for w in history.warnings if "NUL" in w.message)
    assert nul.offset is not None and blob[nul.offset] == 0


def test_unreadable_and_damaged_rotated_files(mixed_log: Path, tmp_path: Path) -> None:
    log = tmp_path / "space-mirror.log"
    log.write_bytes(mixed_log.read_bytes())
    (tmp_path / "space-mirror.log.2.gz").write_bytes(b"\x1f\x8b\x08\x00garbage, not gzip")
    (tmp_path / "space-mirror.log.1").mkdir()  # cannot be read as a file
    history = scan_history(log, cache_dir=tmp_path / "cache")
    assert len(history.runs) == 14
    files = {w.file for w in history.warnings}
    assert str(tmp_path / "space-mirror.log.2.gz") in files
    assert str(tmp_path / "space-mirror.log.1") in files


def test_missing_log_is_a_warning(tmp_path: Path) -> None:
    history = scan_history(tmp_path / "nothing.log", cache_dir=tmp_path / "cache")
    assert history.runs == []
    assert ["does not exist" in w.message for w in history.warnings] == [True]


def test_needle_scan_agrees_with_line_by_line(mixed_log: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs are searched, not parsed: on the real fixture both ways give the same runs."""
    from tui.core.history import scan as hist

    searched = scan_history(mixed_log, use_cache=False)
    monkeypatch.setattr(hist, "LINE_PARSE_BYTES", 1 << 40)
    parsed = scan_history(mixed_log, use_cache=False)
    assert [r.as_json() for r in searched.runs] == [r.as_json() for r in parsed.runs]
    assert [r.deletes_skipped for r in searched.runs] == [r.deletes_skipped for r in parsed.runs]
    assert searched.warnings == parsed.warnings == []
