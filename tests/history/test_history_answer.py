"""The cache holds the answer: an unchanged log costs one stat per file and one cache read
(no log file opened, no run rebuilt), and an appended night rebuilds that night only."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tui.core.history import assemble, scan_history
from tui.core.history import files as hist_files

SHAPES = Path(__file__).resolve().parents[1] / "fixtures" / "shapes"
MIXED = Path(__file__).resolve().parents[1] / "fixtures" / "history" / "mixed.log"


class Spy:
    """Counts log files opened for reading and runs built from fragments."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.opened: list[str] = []
        self.built = 0
        real_open, real_build = hist_files.open_log, assemble.run_from

        def open_log(path: Path) -> int:
            self.opened.append(Path(path).name)
            return real_open(path)

        def build(group: list[tuple[Path, object]]) -> object:
            self.built += 1
            return real_build(group)  # type: ignore[arg-type]

        monkeypatch.setattr(hist_files, "open_log", open_log)
        monkeypatch.setattr(assemble, "run_from", build)

    def take(self) -> tuple[list[str], int]:
        out = (self.opened, self.built)
        self.opened, self.built = [], 0
        return out


def _halves(data: bytes) -> tuple[bytes, bytes]:
    """The log up to its last run's start marker, and that last run."""
    cut = data.rindex(b"\n[", 0, data.rindex(b"Starting Space Mirror")) + 1
    return data[:cut], data[cut:]


def test_unchanged_log_is_answered_from_the_cache(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "rotated"
    shutil.copytree(SHAPES / "rotated", folder)
    log = folder / "space-mirror.log"
    cache = tmp_path / "cache"
    spy = Spy(monkeypatch)
    cold = scan_history(log, cache_dir=cache)
    opened, built = spy.take()
    assert built == len(cold.runs) == 3 and len(opened) >= 3
    warm = scan_history(log, cache_dir=cache)
    assert spy.take() == ([], 0)  # no log file opened, no run rebuilt
    assert warm.runs == cold.runs  # every field, datetimes and spans included
    assert warm.warnings == cold.warnings and warm.files == cold.files


def test_an_appended_night_builds_that_night_only(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "space-mirror.log"
    head, last = _halves(MIXED.read_bytes())
    log.write_bytes(head)
    cache = tmp_path / "cache"
    before = scan_history(log, cache_dir=cache)
    spy = Spy(monkeypatch)
    with log.open("ab") as fh:
        fh.write(last)
    grown = scan_history(log, cache_dir=cache)
    opened, built = spy.take()
    assert opened == [log.name] and built == 1
    assert len(grown.runs) == len(before.runs) + 1
    assert grown.runs[:-1] == before.runs
    assert grown.runs == scan_history(log, use_cache=False).runs


def test_the_open_last_run_is_asked_about_every_time(tmp_path: Path) -> None:
    """The answer keeps the last run `incomplete`; whether it still runs is the lock's
    answer now, not the cache's."""
    log = tmp_path / "space-mirror.log"
    data = (SHAPES / "cut-mid-line" / "space-mirror.log").read_bytes()
    log.write_bytes(data)
    cache = tmp_path / "cache"
    asked: list[str | None] = []

    def running(run_id: str | None) -> bool:
        asked.append(run_id)
        return True

    assert str(scan_history(log, cache_dir=cache).runs[-1].outcome) == "incomplete"
    for _ in range(2):
        assert str(scan_history(log, cache_dir=cache, is_running=running).runs[-1].outcome) \
            == "running"
    assert len(asked) == 2 and asked[0] is not None and asked[0] in data.decode()
    os.utime(log)  # touched: the answer is re-derived, with the same result
    assert str(scan_history(log, cache_dir=cache).runs[-1].outcome) == "incomplete"
