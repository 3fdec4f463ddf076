"""One scan for every run size: the needle scan agrees with the line-by-line reference.

The reference is the dashboard's own path (LineParser, then the batch reducer `apply_all`);
the scan searches instead. Each recorded real rclone log is put between the wrapper's (text)
or the runner's (JSON) markers, as it would sit in a job's log, and both paths must find the
same fragments: stats, per-file counts, error classes, failed files, skipped deletes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui.core.history import scan as hist_scan
from tui.core.history import scan_bytes

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text())
RCLONE_LOGS = sorted(k for k in MANIFEST if not k.startswith("_"))
WHOLE_LOGS = ["history/mixed.log", "legacy-wrapper.log", "runner.log"]


def _wrapped(name: str) -> bytes:
    body = (FIXTURES / name).read_bytes()
    code = int(MANIFEST[name]["exit"])
    if MANIFEST[name]["format"] == "json":
        start = b"[2026-11-25T14:30:54+00:00] Starting Space Mirror... run=20261125T143054-59bf"
        end = (b"[2026-11-25T14:30:55+00:00] Space Mirror Complete. run=20261125T143054-59bf"
               if code == 0 else
               b"[2026-11-25T14:30:55+00:00] Space Mirror FAILED with exit code %d "
               b"run=20261125T143054-59bf" % code)
    else:
        start = b"[Wed Nov 25 14:30:53 UTC 2026] Starting Space Mirror..."
        end = (b"[Wed Nov 25 14:30:53 UTC 2026] Space Mirror Complete." if code == 0 else
               b"[Wed Nov 25 14:30:53 UTC 2026] Space Mirror FAILED with exit code %d" % code)
    return start + b"\n" + body + end + b"\n"


def _fragments(data: bytes, line_by_line: bool, monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    monkeypatch.setattr(hist_scan, "LINE_PARSE_BYTES", 1 << 40 if line_by_line else 0)
    scan = scan_bytes("log", data)
    return [f.to_json() for f in scan.fragments] + [{"warnings": scan.warnings}]


@pytest.mark.parametrize("name", RCLONE_LOGS + WHOLE_LOGS)
@pytest.mark.parametrize("cut", [False, True], ids=["whole", "cut-off"])
def test_needle_scan_equals_line_by_line(name: str, cut: bool,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    data = _wrapped(name) if name in RCLONE_LOGS else (FIXTURES / name).read_bytes()
    if cut:  # killed before its end marker: the per-file lines are counted
        data = data[:data.rindex(b"\n[", 0, len(data) - 1) + 1]
    searched = _fragments(data, False, monkeypatch)
    parsed = _fragments(data, True, monkeypatch)
    assert searched == parsed
    assert len(searched) > 1


def test_small_runs_are_not_parsed_line_by_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 300-line night must not take a slower path per byte than a 3-million-line one."""
    calls: list[int] = []
    monkeypatch.setattr(hist_scan._FileScanner, "_parse_lines",
                        lambda self, frag: calls.append(frag.region_start))
    scan_bytes("log", (FIXTURES / "history" / "mixed.log").read_bytes())
    assert calls == []


def test_multi_line_errors_same_on_both_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real pasted error records (tests/fixtures/real_errors) inside a real failed wrapper
    run: continuation lines attach on both paths, journald and level-less fatal lines are
    found, and no summary or root becomes a failed file."""
    corpus = [json.loads(x) for x in
              (FIXTURES / "real_errors" / "corpus.jsonl").read_text().splitlines()]
    wanted = ["issues/4689", "issues/6793", "issues/452", "issues/1439", "issues/3768"]
    extra = "".join(r["line"] + "\n" for r in corpus
                    if (any(r["source"].endswith(w) for w in wanted)
                    and r["line"][:4].isdigit()) or r["line"].startswith("<3>"))
    run = _wrapped("text/missing-source.log")
    cut = run.index(b"\n") + 1
    data = run[:cut] + extra.encode() + run[cut:]
    searched = _fragments(data, False, monkeypatch)
    assert searched == _fragments(data, True, monkeypatch)
    (frag, _) = searched
    files = frag["failed_files"]
    assert "Failed to copy" not in files and "" not in files
    assert "test3.txt" in files and "ubuntu-22.10-desktop-amd64.iso.torrent" in files
    assert {c[0] for c in frag["classes"]} >= {"permission", "network", "not-found",
                                              "source-missing"}
