"""Every log shape the history has ever read (tests/fixtures/shapes/, recorded from real
rclone runs by its record.py) gives its expected history, read cold and read as the log
grew (the cache's incremental path), so no shape is silently lost again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.history.checks import check_run
from tests.history.realruns import Expect
from tui.core.history import Run, scan_history

SHAPES = Path(__file__).resolve().parents[1] / "fixtures" / "shapes"
NAMES = sorted(p.name for p in SHAPES.iterdir() if (p / "expected.json").is_file())
LEGACY_BYTES = {"wrapper-text", "rclone160-text", "journald", "rotated", "garbage",
                "runner-text"}  # rclone's text stats: humanised bytes ("5.859 KiB")


def _expected(name: str) -> list[Expect]:
    return [Expect(e) for e in json.loads((SHAPES / name / "expected.json").read_text())]


def _check(runs: list[Run], name: str) -> None:
    expected = _expected(name)
    assert len(runs) == len(expected), [r.as_json() for r in runs]
    for run, exp in zip(runs, expected, strict=True):
        check_run(run, exp, legacy=name in LEGACY_BYTES)


def _copy(name: str, dest: Path) -> Path:
    shutil.copytree(SHAPES / name, dest, ignore=shutil.ignore_patterns("expected.json"))
    return dest / "space-mirror.log"


def test_the_corpus_has_every_shape() -> None:
    assert set(NAMES) >= {"wrapper-text", "wrapper-json", "runner-json", "runner-text",
                          "rclone160-text", "journald", "rotated", "cut-mid-line", "garbage"}


@pytest.mark.parametrize("name", NAMES)
def test_cold(name: str, tmp_path: Path) -> None:
    log = _copy(name, tmp_path / name)
    _check(scan_history(log, use_cache=False).runs, name)


@pytest.mark.parametrize("name", NAMES)
def test_incremental(name: str, tmp_path: Path) -> None:
    """The live file read while it grew: cut at every third of its bytes (mid-line, as a
    reader finds a log being written), scanned with the cache after each piece, then
    scanned again unchanged."""
    log = _copy(name, tmp_path / name)
    cache = tmp_path / "cache"
    data = log.read_bytes()
    for cut in (len(data) // 3, 2 * len(data) // 3):
        log.write_bytes(data[:cut])
        scan_history(log, cache_dir=cache)
    log.write_bytes(data)
    _check(scan_history(log, cache_dir=cache).runs, name)
    _check(scan_history(log, cache_dir=cache).runs, name)  # unchanged: the cache's answer
