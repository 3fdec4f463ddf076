"""The incremental index: what is re-read, and what is not."""

from __future__ import annotations

import marshal
import os
from pathlib import Path

import pytest

from tests.history.realruns import make_tree, rotate, run_wrapper
from tui.core import history as hist
from tui.core.history import cache as hist_cache
from tui.core.history import cache_path, scan_history
from tui.core.history.cache import answer_path


class Reads:
    """Counts the bytes each file's scanner covers (wraps scan_range)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, int, int]] = []
        real = hist_cache.scan_range

        def spy(name: str, buf: object, lo: int, hi: int) -> hist.FileScan:
            self.calls.append((Path(name).name, lo, hi))
            return real(name, buf, lo, hi)  # type: ignore[arg-type]

        monkeypatch.setattr(hist_cache, "scan_range", spy)

    def take(self) -> list[tuple[str, int, int]]:
        out, self.calls = self.calls, []
        return out


def _other_first_stamp(data: bytes) -> bytes:
    """The log with its first start marker's timestamp replaced by a different, valid one.

    The wrapper stamps its markers with the real `date`, so the replacement must differ from
    whatever day and time the test runs at (a fixed swap such as Wed→Thu only changes the head
    on one weekday in seven)."""
    first, rest = data.split(b"\n", 1)
    assert first.startswith(b"[") and b"] Starting Space Mirror" in first, first
    stamp = b"Mon Jan  5 03:00:00 UTC 2026"
    if first[1:first.index(b"]")] == stamp:
        stamp = b"Tue Jan  6 03:00:00 UTC 2026"
    changed = b"[" + stamp + first[first.index(b"]"):] + b"\n" + rest
    assert changed[:len(first)] != first
    return changed


@pytest.fixture
def two_runs(tmp_path: Path) -> tuple[Path, Path, Path]:
    log = tmp_path / "space-mirror.log"
    src, dst = tmp_path / "src", tmp_path / "dst"
    make_tree(src, {"a.txt": 100})
    assert run_wrapper(src, str(dst), log) == 0
    make_tree(src, {"b.txt": 100})
    assert run_wrapper(src, str(dst), log) == 0
    return log, src, dst


def test_unchanged_files_are_not_read(two_runs: tuple[Path, Path, Path], tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    log, _, _ = two_runs
    reads = Reads(monkeypatch)
    cache = tmp_path / "cache"
    first = scan_history(log, cache_dir=cache)
    assert reads.take() == [(log.name, 0, log.stat().st_size)]
    again = scan_history(log, cache_dir=cache)
    assert reads.take() == []
    assert [r.as_json() for r in again.runs] == [r.as_json() for r in first.runs]


def test_growth_rescans_from_last_complete_run(two_runs: tuple[Path, Path, Path],
                                                tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    log, src, dst = two_runs
    cache = tmp_path / "cache"
    scan_history(log, cache_dir=cache)
    size = log.stat().st_size
    reads = Reads(monkeypatch)
    make_tree(src, {"c.txt": 100})
    assert run_wrapper(src, str(dst), log) == 0
    history = scan_history(log, cache_dir=cache)
    assert reads.take() == [(log.name, size, log.stat().st_size)]
    assert [r.transfers for r in history.runs] == [1, 1, 1]
    # An open run at the end of the cache is re-read once it ends.
    with log.open("ab") as fh:
        fh.write(b"[Wed Nov 25 03:00:00 UTC 2026] Starting Space Mirror...\n")
    open_size = log.stat().st_size
    assert str(scan_history(log, cache_dir=cache).runs[-1].outcome) == "incomplete"
    reads.take()
    with log.open("ab") as fh:
        fh.write(b"[Wed Nov 25 03:00:09 UTC 2026] Space Mirror FAILED with exit code 7\n")
    history = scan_history(log, cache_dir=cache)
    assert reads.take() == [(log.name, open_size - 56, log.stat().st_size)]
    assert [str(r.outcome) for r in history.runs][-1] == "failed"
    assert history.runs[-1].exit_code == 7


def test_rotation_keeps_cache_by_inode(two_runs: tuple[Path, Path, Path], tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    log, src, dst = two_runs
    cache = tmp_path / "cache"
    scan_history(log, cache_dir=cache)
    rotate(log)  # log → log.1: same inode, not re-read
    make_tree(src, {"d.txt": 100})
    assert run_wrapper(src, str(dst), log) == 0
    reads = Reads(monkeypatch)
    history = scan_history(log, cache_dir=cache)
    assert reads.take() == [(log.name, 0, log.stat().st_size)]
    assert len(history.runs) == 3
    assert history.runs[0].spans[0].path.endswith(".log.1")


def test_truncation_and_reused_inode_invalidate(two_runs: tuple[Path, Path, Path],
                                                tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    log, src, dst = two_runs
    cache = tmp_path / "cache"
    scan_history(log, cache_dir=cache)
    reads = Reads(monkeypatch)
    # copytruncate: same inode, size shrank.
    os.truncate(log, 0)
    make_tree(src, {"e.txt": 100})
    assert run_wrapper(src, str(dst), log) == 0
    history = scan_history(log, cache_dir=cache)
    assert reads.take() == [(log.name, 0, log.stat().st_size)]
    assert len(history.runs) == 1
    # Same inode, grown, but the head changed (rewritten in place): full re-read.
    data = log.read_bytes()
    log.write_bytes(_other_first_stamp(data) + data)
    history = scan_history(log, cache_dir=cache)
    assert reads.take() == [(log.name, 0, log.stat().st_size)]
    assert len(history.runs) == 2


def test_corrupt_cache_is_ignored_with_a_warning(two_runs: tuple[Path, Path, Path],
                                                 tmp_path: Path) -> None:
    log, _, _ = two_runs
    cache = tmp_path / "cache"
    scan_history(log, cache_dir=cache)
    path = cache_path(cache, log)
    assert hist_cache.unpack(path.read_bytes())["version"] == hist.CACHE_VERSION
    answer = answer_path(path)  # the assembled runs, beside the per-file index
    assert hist_cache.unpack(answer.read_bytes())["version"] == hist.CACHE_VERSION
    path.write_text("{not json")
    answer.write_text("{not json")
    history = scan_history(log, cache_dir=cache)
    assert len(history.runs) == 2
    assert any("cache is corrupt" in w.message for w in history.warnings)
    # …and rewritten whole, atomically (no temp files left behind).
    assert hist_cache.unpack(path.read_bytes())["version"] == hist.CACHE_VERSION
    assert hist_cache.unpack(answer.read_bytes())["version"] == hist.CACHE_VERSION
    assert sorted(p.name for p in cache.iterdir()) == sorted([path.name, answer.name])
    assert scan_history(log, cache_dir=cache).warnings == []


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "a flipped byte",
                                    "bare marshal", "not a dict"])
def test_a_damaged_cache_of_any_kind_is_rebuilt(damage: str, two_runs: tuple[Path, Path, Path],
                                                tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A cut file, junk, one byte changed, a payload without its header, a good one of the
    wrong shape: each is a corrupt cache (a warning, the runs read from the logs, a good
    cache again), and marshal never sees bytes whose hash does not match."""
    log, _, _ = two_runs
    cache = tmp_path / "cache"
    first = scan_history(log, cache_dir=cache)
    path = cache_path(cache, log)
    good = path.read_bytes()
    flipped = bytearray(good)
    flipped[-1] ^= 1
    path.write_bytes({"truncated": good[:len(good) // 2], "garbage": bytes(range(256)) * 4,
                      "empty": b"", "a flipped byte": bytes(flipped),
                      "bare marshal": marshal.dumps({"version": hist.CACHE_VERSION}),
                      "not a dict": hist_cache.pack([1, 2])}[damage])
    answer_path(path).unlink()  # the per-file index is what is read
    decoded: list[int] = []

    class Spy:
        dumps = staticmethod(marshal.dumps)

        @staticmethod
        def loads(data: bytes) -> object:
            decoded.append(len(data))
            return marshal.loads(data)

    monkeypatch.setattr(hist_cache, "marshal", Spy)
    history = scan_history(log, cache_dir=cache)
    assert len(decoded) == (1 if damage == "not a dict" else 0)
    assert [r.as_json() for r in history.runs] == [r.as_json() for r in first.runs]
    assert any("cache is corrupt" in w.message for w in history.warnings)
    assert hist_cache.unpack(path.read_bytes())["version"] == hist.CACHE_VERSION
    assert scan_history(log, cache_dir=cache).warnings == []


def test_unwritable_cache_is_a_warning(two_runs: tuple[Path, Path, Path],
                                       tmp_path: Path) -> None:
    log, _, _ = two_runs
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    history = scan_history(log, cache_dir=blocker / "cache")
    assert len(history.runs) == 2
    assert any("cannot write the history cache" in w.message for w in history.warnings)


def test_default_cache_dir_follows_xdg(tmp_path: Path) -> None:
    assert hist.default_cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "space-mirror"
    assert hist.default_cache_dir({}).name == "space-mirror"
