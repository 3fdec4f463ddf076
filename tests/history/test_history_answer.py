"""The cache holds the answer: an unchanged log costs one stat per file and one cache read
(no log file opened, no run rebuilt), and an appended night rebuilds that night only."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tui.core.history import assemble, scan_history
from tui.core.history import cache as hist_cache
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


def _cached(cache: Path, log: Path) -> tuple[list[object], list[object]]:
    """The runs' rows of the answer cache, and the live log's fragments in the index."""
    entries = hist_cache.cache_path(cache, log)
    answer = hist_cache.unpack(hist_cache.answer_path(entries).read_bytes())
    index = hist_cache.unpack(entries.read_bytes())["files"]
    key = hist_cache.Cache.key(os.stat(log))
    return answer["runs"], index[key]["fragments"]


def test_what_was_read_from_the_cache_is_written_back_as_a_new_read_writes_it(
        tmp_path: Path) -> None:
    """An appended night writes the earlier runs' rows and fragments back as they were read
    (not decoded and encoded again): they must be, in place and in order, what a first read
    of the grown log writes."""
    log = tmp_path / "space-mirror.log"
    head, last = _halves(MIXED.read_bytes())
    log.write_bytes(head)
    cache = tmp_path / "cache"
    scan_history(log, cache_dir=cache)
    with log.open("ab") as fh:
        fh.write(last)
    grown = scan_history(log, cache_dir=cache)
    rows, fragments = _cached(cache, log)
    fresh_cache = tmp_path / "fresh"
    fresh = scan_history(log, cache_dir=fresh_cache)
    assert grown.runs == fresh.runs and len(rows) == len(fresh.runs) > 2
    assert (rows, fragments) == _cached(fresh_cache, log)
    assert rows == [r.to_cache() for r in fresh.runs]
    assert scan_history(log, cache_dir=cache).runs == fresh.runs  # read back from them


def test_a_run_renamed_since_is_not_written_back_under_its_old_name(tmp_path: Path) -> None:
    """Three runs started in the same second are X, X-2 and X-3. The rotated file with the
    first one is removed: the live log's two runs, unchanged and taken from the cache, are
    now X and X-2, and the cache must keep them so, not as the rows they were read from."""
    lines = (SHAPES / "wrapper-text" / "space-mirror.log").read_bytes()
    second = lines.index(b"Starting Space Mirror", lines.index(b"Starting Space Mirror") + 1)
    cut = lines.rindex(b"\n[", 0, second) + 1  # the second run's start marker's line
    log = tmp_path / "space-mirror.log"
    first = tmp_path / "space-mirror.log.1"
    first.write_bytes(lines[:cut])
    log.write_bytes(lines[cut:])
    cache = tmp_path / "cache"
    ids = [r.id for r in scan_history(log, cache_dir=cache).runs]
    assert len(ids) == 3 and ids[1:] == [f"{ids[0]}-2", f"{ids[0]}-3"]
    first.unlink()
    renamed = scan_history(log, cache_dir=cache)
    assert [r.id for r in renamed.runs] == ids[:2]
    assert [r.id for r in scan_history(log, cache_dir=cache).runs] == ids[:2]
    assert [row[0] for row in _cached(cache, log)[0]] == ids[:2]


def test_a_run_comes_back_from_its_cache_row_field_for_field() -> None:
    """Run.from_cache takes the row's fields by position: every field set to a value none of
    the others has, so that two swapped fields cannot pass."""
    from datetime import UTC, datetime

    from tui.core.history.model import LogSpan, Run
    from tui.core.runstate import Outcome
    from tui.core.triage import ClassCount

    run = Run(id="r1", legacy=False, job="space", started=datetime(2026, 1, 2, 3, 4, 5, 6, UTC),
              ended=datetime(2026, 1, 2, 4, 5, 6, 7, UTC), outcome=Outcome.FAILED,
              exit_code=7, dry_run=True, reason="why", bytes=11, transfers=12, checks=13,
              deletes=14, renames=15, errors=16, elapsed=17.5, error_lines=18,
              error_classes=(ClassCount("auth", 19, "e.g."), ClassCount("io", 20, "x")),
              failed_files=("a", "b"), deletes_skipped=True,
              spans=(LogSpan("/l.1", 21, 22, True), LogSpan("/l", 0, 23, False)),
              mode="verify", verify={"differ": 24}, attempts=25)
    assert Run.from_cache(run.to_cache()) == run
    empty = Run(id="r2", legacy=True, job=None, started=None, ended=None,
                outcome=Outcome.INCOMPLETE, exit_code=None, dry_run=False, reason=None,
                bytes=None, transfers=None, checks=None, deletes=None, renames=None,
                errors=None, elapsed=None, error_lines=0, error_classes=(), failed_files=(),
                deletes_skipped=False, spans=())
    assert Run.from_cache(empty.to_cache()) == empty
    with pytest.raises(KeyError):
        Run.from_cache([*run.to_cache()[:5], "no-such-outcome", *run.to_cache()[6:]])
