"""Issue 15: history counts each failing file or cause once per run, not once per retry
attempt, and keeps rclone's attempts apart; a run split by log rotation merges by (class,
object). On a real recorded rclone log (tests/fixtures/remedy/, 3 attempts, 3 files)."""

from __future__ import annotations

import json
from pathlib import Path

from tui.core.history import scan_history

FIXTURE = Path(__file__).parent.parent / "fixtures" / "remedy" / "readonly-and-dirfile.jsonl"
START = ("[2026-12-04T10:00:00+00:00] Starting Space Mirror... run=20261204T100000-abcd "
         "job=rem mode=sync pid=1 by=cli\n")
END = ("[2026-12-04T10:00:05+00:00] Space Mirror FAILED with exit code 1 "
       "run=20261204T100000-abcd reason=\"Attempt 3/3 failed with 3 errors and: x\" "
       "bytes=0 transfers=0 checks=0 deletes=0 renames=0 errors=3 elapsed=5.0\n")


def _lines() -> list[str]:
    return FIXTURE.read_text().splitlines(keepends=True)


def _check(log: Path, tmp_path: Path) -> None:
    history = scan_history(log, cache_dir=tmp_path / "cache")
    (run,) = history.runs
    assert str(run.outcome) == "failed" and run.exit_code == 1
    assert [(c.cls, c.count) for c in run.error_classes] == [("permission", 2), ("io", 1)]
    assert run.attempts == 3
    assert run.error_lines == 18  # the ERROR lines are all still counted as lines
    data = json.loads(json.dumps(run.as_json()))
    assert data["attempts"] == 3
    assert sum(c["count"] for c in data["error_classes"]) == 3
    # And the same from the cache.
    again = scan_history(log, cache_dir=tmp_path / "cache").runs[0]
    assert again.error_classes == run.error_classes and again.attempts == 3


def test_each_cause_counts_once_per_run(tmp_path: Path) -> None:
    log = tmp_path / "space-mirror.log"
    log.write_text(START + "".join(_lines()) + END)
    _check(log, tmp_path)


def test_a_run_split_by_rotation_merges_by_class_and_object(tmp_path: Path) -> None:
    lines = _lines()
    # Cut in the middle of the attempts: the same files fail on both sides.
    half = len(lines) // 2
    first = [ln for ln in lines[:half]]
    assert any('"level":"error"' in ln for ln in first)
    assert any('"level":"error"' in ln for ln in lines[half:])
    log = tmp_path / "space-mirror.log"
    (tmp_path / "space-mirror.log.1").write_text(START + "".join(first))
    log.write_text("".join(lines[half:]) + END)
    _check(log, tmp_path)
