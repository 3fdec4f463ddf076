"""A large scan searches its needles with the C library's memmem (tui/core/history/memmem.py)
and finds exactly what `bytes.find` finds: the same places, in the same order, across the
edges of the pread windows, with or without memmem, on every recorded log shape."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tui.core.history import files, memmem, scan
from tui.core.history.files import LogBytes, open_buffer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LOGS = sorted([*(FIXTURES / "shapes").glob("*/space-mirror.log*"),
               FIXTURES / "history" / "mixed.log"])
NEEDLES = [b"ERROR : ", b'"level":"error"', b"CRITICAL: ", b"aa", b"x"]


def _found(buf: bytes, sub: bytes, lo: int, hi: int) -> list[int]:
    """The places repeated `bytes.find`s give: the answer every search must match."""
    out: list[int] = []
    pos = buf.find(sub, lo, hi)
    while pos != -1:
        out.append(pos)
        pos = buf.find(sub, pos + len(sub), hi)
    return out


@pytest.fixture
def small_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows of 64 bytes (overlap 16) and memmem for any stretch: a few KB cross many
    window edges, and every stretch goes through the foreign call."""
    monkeypatch.setattr(files, "WINDOW", 64)
    monkeypatch.setattr(files, "OVERLAP", 16)
    monkeypatch.setattr(files, "MEMMEM_MIN", 0)


@contextmanager
def _log_bytes(tmp_path: Path, data: bytes) -> Iterator[LogBytes]:
    path = tmp_path / "log"
    path.write_bytes(data)
    with open_buffer(path, []) as buf:
        yield buf


def _random_text(rng: random.Random) -> bytes:
    """Runs of filler with needles sprinkled in, some back to back, some cut short."""
    parts: list[bytes] = []
    for _ in range(rng.randrange(1, 60)):
        parts.append(rng.choice([b"a", b"x", b"\n", b"ERROR", b" : ", b'"level":"'])
                     * rng.randrange(0, 12))
        if rng.random() < 0.5:
            parts.append(rng.choice(NEEDLES))
    return b"".join(parts)


def test_the_c_library_has_memmem() -> None:
    """On the machines the tool runs on (Linux, glibc or musl) the fast search is there: a
    fallback that silently always ran would make this whole change a no-op."""
    assert memmem.SEARCH is not None


@pytest.mark.parametrize("fast", [True, False], ids=["memmem", "find"])
def test_find_all_is_repeated_find(fast: bool, tmp_path: Path, small_windows: None) -> None:
    rng = random.Random(21)
    for _ in range(150):
        data = _random_text(rng)
        with _log_bytes(tmp_path, data) as buf:
            if fast:
                buf.search_fast()
            for sub in NEEDLES:
                lo = rng.randrange(0, len(data) + 1)
                hi = rng.randrange(lo, len(data) + 1)
                got: list[int] = []
                buf.find_all(sub, lo, hi, got)
                assert got == _found(data, sub, lo, hi), (data, sub, lo, hi)


def test_a_needle_across_a_window_edge_is_found_once(tmp_path: Path,
                                                     small_windows: None) -> None:
    for at in range(64 - 8, 64 + 1):  # "ERROR : " starting before, across and at the edge
        data = b"." * at + b"ERROR : " + b"." * 100 + b"ERROR : "
        with _log_bytes(tmp_path, data) as buf:
            buf.search_fast()
            got: list[int] = []
            buf.find_all(b"ERROR : ", 0, len(data), got)
            assert got == [at, at + 108]


def test_without_memmem_the_search_is_bytes_find(tmp_path: Path, small_windows: None,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A C library without memmem (or none to open): search_fast changes nothing and the
    answers are the same."""
    monkeypatch.setattr(memmem, "SEARCH", None)
    data = b"xxERROR : yyERROR : " * 20
    with _log_bytes(tmp_path, data) as buf:
        buf.search_fast()
        assert buf._fast is None
        got: list[int] = []
        buf.find_all(b"ERROR : ", 0, len(data), got)
        assert got == _found(data, b"ERROR : ", 0, len(data))


def test_a_pinned_window_cannot_move() -> None:
    """The address handed to memmem stays valid: a pinned bytearray refuses to be resized."""
    window = bytearray(b"0123456789")
    pinned = memmem.Pinned(window)
    with pytest.raises(BufferError):
        window.extend(b"more")
    got: list[int] = []
    assert memmem.SEARCH is not None
    assert memmem.find_in_pinned(pinned, b"45", 0, 10, 100, got) == 6
    assert got == [104]
    # Asked past its end (a needle longer than a window's overlap would), C stops at it.
    assert memmem.find_in_pinned(pinned, b"9\x00", 0, 11, 0, got) == 0
    assert got == [104]


@pytest.mark.parametrize("path", LOGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_shape_scans_the_same_with_memmem(path: Path, small_windows: None,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    with open_buffer(path, []) as buf:
        plain = scan.scan_bytes(str(path), buf)
    monkeypatch.setattr(scan, "MEMMEM_BYTES", 0)
    with open_buffer(path, []) as buf:
        fast = scan.scan_bytes(str(path), buf)
        assert buf._fast is memmem
    assert fast == plain


def _per_file_lines(rng: random.Random) -> bytes:
    """rclone's per-file text lines, and lines that only look like them."""
    lines = [b"2030/01/01 03:00:00 INFO  : a/b.txt: Copied (new)\n",
             b"x: Copied (replaced existing)\r\n",
             b"d/e: Deleted\n",
             b'n: Renamed from "o"\n',
             b"New: Copied (new).txt: Copied (new)\n",  # one match: the name's is no line end
             b"Copied (no colon)\n", b"\n", b"junk: Deleted twice\n"]
    return b"".join(rng.choice(lines) for _ in range(rng.randrange(0, 40)))


def test_counting_lines_is_findall_over_the_range(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Counted a window at a time, cut after the line crossing each window's edge: the
    same counts as the patterns over the whole range, from any start and to any end."""
    monkeypatch.setattr(files, "WINDOW", 64)
    monkeypatch.setattr(files, "OVERLAP", 64)  # longer than any line here
    monkeypatch.setattr(files, "COUNT_PIECE", 20)  # a window counted in a few pieces
    patterns = list(scan._TEXT_PER_FILE.values())
    rng = random.Random(5)
    for _ in range(200):
        data = _per_file_lines(rng)
        lo = rng.randrange(0, len(data) + 1)
        hi = rng.choice([len(data), rng.randrange(lo, len(data) + 1)])
        with _log_bytes(tmp_path, data) as buf:
            got = buf.count_lines_matching(patterns, lo, hi)
        assert got == [len(p.findall(data, lo, hi)) for p in patterns], (data, lo, hi)


def test_a_line_longer_than_the_overlap_is_counted_at_most_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "WINDOW", 64)
    monkeypatch.setattr(files, "OVERLAP", 16)
    pattern = scan._TEXT_PER_FILE["copied"]
    for at in range(0, 64):
        data = b"a: Copied (new)\n" + b"x" * at + b"b" * 100 + b": Copied (new)\n" * 3
        with _log_bytes(tmp_path, data) as buf:
            [got] = buf.count_lines_matching([pattern], 0, len(data))
        assert 3 <= got <= 4, at  # only the long line may go uncounted, none twice


def test_a_split_scan_loads_memmem_once_before_it_forks(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    """The parts' children inherit the parent's loaded memmem: ctypes is imported once,
    not once in every part (9 ms each on a loaded machine)."""
    from tui.core.history import split

    monkeypatch.setattr(split, "MIN_PART_BYTES", 256)
    monkeypatch.setattr(split, "usable_cores", lambda: 4)
    monkeypatch.setattr(split, "_alone", lambda: True)
    monkeypatch.setattr(scan, "MEMMEM_BYTES", 0)
    at_fork: list[object] = []

    def no_fork(name: str, buf: scan.Buf, lo: int, hi: int) -> None:
        at_fork.append(getattr(buf, "_fast", None))
        return None  # scanned here instead

    monkeypatch.setattr(split, "_fork_part", no_fork)
    path = FIXTURES / "history" / "mixed.log"
    with open_buffer(path, []) as buf:
        parts = split.scan_range(str(path), buf, 0, len(buf))
    with open_buffer(path, []) as buf:
        assert parts == scan.scan_bytes(str(path), buf)
    assert at_fork and all(fast is memmem for fast in at_fork)
