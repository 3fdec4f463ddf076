"""Which files hold the history (the log, its rotations, `dateext` names) and reading them:
fixed pread windows for every file (memory does not grow with the log), `.gz` inflated a
slice at a time into a temporary file."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from tui.core.history.model import HistoryWarning, LogSpan, Run
from tui.core.logline import decode

TYPE_CHECKING = False  # typing is 2 ms to import (issue 21)

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor
    from typing import Any

# Compressed bytes fed to zlib at a time.
GZ_SLICE = 1 << 20
# More numbered rotations than any logrotate setting keeps (`rotate 1000` is years of nights).
MAX_ROTATIONS = 1000
_ROTATED = re.compile(r"^\.(\d+)(\.gz)?$")
_DATEEXT = re.compile(r"^-(\d{8}(?:\d{2})?(?:-\d+)?)(\.gz)?$")


# --- file discovery ---------------------------------------------------------------------------
def log_files(log: Path) -> tuple[list[Path], list[HistoryWarning]]:
    """The log and its rotated siblings, oldest first, with warnings for gaps."""
    warnings: list[HistoryWarning] = []
    folder = log.parent
    base = log.name
    numbered: dict[int, list[Path]] = {}
    dated: list[tuple[str, Path]] = []
    try:
        names = os.listdir(folder)
    except OSError as exc:
        return [], [HistoryWarning(str(folder), None, f"cannot list folder: {exc.strerror}")]
    for name in names:
        if not name.startswith(base) or name == base:
            continue
        rest = name[len(base):]
        m = _ROTATED.match(rest)
        if m:
            numbered.setdefault(int(m[1]), []).append(folder / name)
            continue
        d = _DATEEXT.match(rest)
        if d:
            dated.append((d[1], folder / name))
    files = [p for _, p in sorted(dated)]
    # The folder's names are data: `FILE.3000000` must not make the scan walk three million
    # missing numbers. Rotations past MAX_ROTATIONS are left out, with one warning.
    far = sorted(n for n in numbered if n > MAX_ROTATIONS)
    if far:
        warnings.append(HistoryWarning(
            str(numbered[far[0]][0]), None,
            f"{len(far)} rotated file(s) numbered over {MAX_ROTATIONS} not read "
            "(logrotate's `rotate` keeps fewer; remove or rename them)"))
    gap_end: int | None = None
    for n in range(min(max(numbered, default=0), MAX_ROTATIONS), 0, -1):
        if n not in numbered:
            gap_end = n if gap_end is None else gap_end
            continue
        if gap_end is not None:
            _warn_gap(warnings, log, n + 1, gap_end)
            gap_end = None
        # FILE.N.gz and FILE.N both present (a half-finished compression): plain last.
        files.extend(sorted(numbered[n], key=lambda p: not p.name.endswith(".gz")))
    if gap_end is not None:
        _warn_gap(warnings, log, 1, gap_end)
    if log.exists():
        files.append(log)
    elif not files:
        warnings.append(HistoryWarning(str(log), None, "log file does not exist (no runs yet)"))
    return files, warnings


def _warn_gap(warnings: list[HistoryWarning], log: Path, first: int, last: int) -> None:
    name = f"{log}.{first}" if first == last else f"{log}.{first}…{last}"
    warnings.append(HistoryWarning(name, None, "missing rotated file (a gap in the history)"))


# --- reading files ----------------------------------------------------------------------------
# A log folder's contents are data: only a regular file is read (a FIFO named like a
# rotation must not hang the scan), opened without blocking, checked by fstat.
_READ_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC


def open_log(path: Path) -> int:
    """A descriptor on `path` for reading, or OSError when it is not a regular file."""
    fd = os.open(path, _READ_FLAGS)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file (skipped)")
    except BaseException:
        os.close(fd)
        raise
    return fd


def is_gz(path: Path) -> bool:
    return path.name.endswith(".gz")


# Bytes of a window read with pread, and how far it reaches into the next window, so a
# needle (all are far shorter) found across the boundary is found whole in one of them.
WINDOW = 1024 * 1024
OVERLAP = 64 * 1024
# A stretch of a window searched with memmem (memmem.py) rather than bytearray.find, once a
# scan asked for it: below this the foreign call's own cost is more than it saves.
MEMMEM_MIN = 16 * 1024
# Bytes of per-file lines counted by one `findall`: its list of matches is garbage at once,
# but a whole window's (13k lines) would add a megabyte to the peak, a piece a quarter.
COUNT_PIECE = 256 * 1024


def find_each(buf: bytes | bytearray, sub: bytes, lo: int, hi: int, out: list[int],
              base: int = 0) -> int:
    """Append `base + p` for every place p of `sub` in buf[lo:hi], each search going on
    after the last match (non-overlapping, in order), and return where the last match ended
    (`lo` when there was none). memmem.find_in_pinned is the same over a pinned buffer."""
    n = len(sub)
    ended = lo
    pos = buf.find(sub, lo, hi)
    while pos != -1:
        out.append(base + pos)
        ended = pos + n
        pos = buf.find(sub, ended, hi)
    return ended


class Truncated(OSError):
    """The file got shorter while it was being read (a `copytruncate` rotation)."""


def _truncated() -> Truncated:
    return Truncated(errno.EIO, "the file shrank while it was read (rotated by copytruncate?); "
                     "read it again")


class LogBytes:
    """A file's bytes as `find`/`rfind`/slices, read through fixed pread windows.

    Memory stays the same whatever the file's size: two window buffers, allocated once and
    read into again (no allocation per window, so nothing for malloc to keep). No mapping,
    so a file truncated under the scan is a short read (`Truncated`), not SIGBUS.
    """

    __slots__ = ("_fast", "_fd", "_next", "_pins", "_size", "_slots", "_which")

    def __init__(self, fd: int, size: int) -> None:
        self._fd = fd
        self._size = size
        self._slots: list[bytearray] = []
        self._which: list[int] = []  # the window number each slot holds
        self._next = 0  # the slot to read into next
        self._fast: Any = None  # memmem.py, once a large scan asked for it
        self._pins: list[Any] = []  # each slot's address for memmem, slot by slot

    def __len__(self) -> int:
        return self._size

    def _read(self, offset: int, length: int) -> bytes:
        length = max(0, min(length, self._size - offset))
        data = os.pread(self._fd, length, offset) if length else b""
        if len(data) < length:
            raise _truncated()
        return data

    def _window(self, k: int) -> bytearray:
        which = self._which  # called ~30 times per window: the held ones first, unlooped
        if which:
            if which[0] == k:
                return self._slots[0]
            if len(which) > 1 and which[1] == k:
                return self._slots[1]
        length = max(0, min(WINDOW + OVERLAP, self._size - k * WINDOW))
        if len(self._slots) < 2:
            self._slots.append(bytearray(min(WINDOW + OVERLAP, self._size)))
            self._which.append(-1)
        i = self._next
        self._next = 1 - i if len(self._slots) == 2 else 0
        slot = self._slots[i]
        self._which[i] = -1
        got = os.preadv(self._fd, [memoryview(slot)[:length]], k * WINDOW) if length else 0
        if got < length:
            raise _truncated()
        self._which[i] = k
        return slot

    def _range(self, start: int | None, end: int | None) -> tuple[int, int]:
        lo = 0 if start is None else max(0, start)
        hi = self._size if end is None else min(end, self._size)
        return lo, hi

    def find(self, sub: bytes, start: int | None = None, end: int | None = None) -> int:
        lo, hi = self._range(start, end)
        n = len(sub)
        base = lo - lo % WINDOW
        if hi <= base + WINDOW + OVERLAP:  # the whole range in one window (most calls)
            if lo + n > hi:
                return -1
            pos = self._window(base // WINDOW).find(sub, lo - base, hi - base)
            return -1 if pos == -1 else base + pos
        while lo + n <= hi:
            k = lo // WINDOW
            base = k * WINDOW
            # Only matches starting in this window proper: the next one holds the rest.
            stop = min(hi, base + WINDOW + n - 1)
            pos = self._window(k).find(sub, lo - base, stop - base)
            if pos != -1:
                return base + pos
            lo = base + WINDOW
        return -1

    def search_fast(self) -> None:
        """Search with the C library's memmem from now on, where there is one: for a scan
        of a range large enough to pay for loading it (memmem.py)."""
        from tui.core.history import memmem

        if memmem.SEARCH is not None:
            self._fast = memmem

    def find_all(self, sub: bytes, start: int, end: int, out: list[int]) -> None:
        """Append the place of every `sub` in [start, end) to `out`, in order, each search
        going on past the last match (as repeated `find`s would)."""
        lo, hi = self._range(start, end)
        n = len(sub)
        fast = self._fast
        while lo + n <= hi:
            k = lo // WINDOW
            base = k * WINDOW
            # Only matches starting in this window proper: the next one holds the rest.
            a, b = lo - base, min(hi, base + WINDOW + n - 1) - base
            window = self._window(k)
            if fast is not None and b - a >= MEMMEM_MIN:
                slot = 0 if self._which[0] == k else 1
                ended = fast.find_in_pinned(self._pin(slot), sub, a, b, base, out)
            else:
                ended = find_each(window, sub, a, b, out, base)
            lo = base + max(WINDOW, ended)

    def _pin(self, slot: int) -> Any:
        pins = self._pins
        while len(pins) <= slot:  # slots are made once, in order, and never resized
            pins.append(self._fast.Pinned(self._slots[len(pins)]))
        return pins[slot]

    def rfind(self, sub: bytes, start: int | None = None, end: int | None = None) -> int:
        lo, hi = self._range(start, end)
        n = len(sub)
        if hi - n < lo:
            return -1
        base = (hi - n) - (hi - n) % WINDOW
        if lo >= base:  # the whole range in one window (most calls)
            pos = self._window(base // WINDOW).rfind(sub, lo - base, hi - base)
            return -1 if pos == -1 else base + pos
        while hi - n >= lo:
            k = (hi - n) // WINDOW
            base = k * WINDOW
            pos = self._window(k).rfind(sub, max(lo, base) - base, hi - base)
            if pos != -1:
                return base + pos
            if base <= lo:
                return -1
            hi = base + n - 1
        return -1

    def count(self, sub: bytes, start: int | None = None, end: int | None = None) -> int:
        """bytes.count for a one-byte `sub` (a newline), window by window, without copies."""
        assert len(sub) == 1
        lo, hi = self._range(start, end)
        total = 0
        while lo < hi:
            base = lo // WINDOW * WINDOW
            stop = min(hi, base + WINDOW)
            total += self._window(base // WINDOW).count(sub, lo - base, stop - base)
            lo = stop
        return total

    def count_lines_matching(self, patterns: Sequence[re.Pattern[bytes]], start: int,
                             end: int) -> list[int]:
        """Matches of each pattern, none of which spans a newline (a newline may end it),
        window by window, every pattern in a window while it is held, without copies (a
        line longer than OVERLAP across a window's edge is not counted)."""
        lo, hi = self._range(start, end)
        totals = [0] * len(patterns)
        while lo < hi:
            k = lo // WINDOW
            base = k * WINDOW
            window = self._window(k)
            proper = min(hi, base + WINDOW)
            reach = min(hi, base + WINDOW + OVERLAP) - base
            # Cut after the line that crosses the window's edge: no match spans a newline,
            # so the stretch is counted by one C call, not a Python step per match (a 58 MB
            # re-sync is 600k of them, 0.3 s).
            nl = -1 if proper == hi else window.find(b"\n", proper - 1 - base, reach)
            if proper == hi or nl != -1:
                cut = (hi if proper == hi else base + nl + 1) - base
                a = lo - base
                while a < cut:  # in pieces: findall's list stays small (~3k matches)
                    b = window.find(b"\n", a + COUNT_PIECE, cut) + 1 or cut
                    for i, pattern in enumerate(patterns):
                        totals[i] += len(pattern.findall(window, a, b))
                    a = b
                lo = base + cut
                continue
            for i, pattern in enumerate(patterns):
                for m in pattern.finditer(window, lo - base, reach):
                    if m.start() >= proper - base:
                        break
                    totals[i] += 1
            lo = proper
        return totals

    def __getitem__(self, key: slice) -> bytes:
        lo, hi = self._range(key.start, key.stop)
        if hi <= lo:
            return b""
        k = lo // WINDOW
        if hi <= k * WINDOW + WINDOW + OVERLAP:
            base = k * WINDOW
            return bytes(self._window(k)[lo - base:hi - base])
        return self._read(lo, hi - lo)


# Inflated bytes kept from one .gz: a decompression bomb (a few KB that inflate to many GB)
# stops here, with a warning. Real logs compress 5-30x.
GZ_MAX_RATIO = 100
GZ_MIN_CAP = 256 * 1024 * 1024


def gz_cap(compressed: int) -> int:
    return max(GZ_MIN_CAP, GZ_MAX_RATIO * compressed)


def inflate(path: Path, sink: Callable[[bytes], object], warnings: list[HistoryWarning],
            limit: int | None = None) -> int:
    """Feed `path`'s inflated bytes to `sink` a slice at a time; the count fed. A damaged
    archive keeps what came before; one inflated past its cap (or `limit`) is cut there.

    zlib releases the GIL while it inflates, so several files can be read at once on
    several cores (GzPrefetch); each call inflates at most GZ_SLICE, so memory stays flat."""
    import zlib  # a rotated file's: not loaded to read the live log alone

    fd = open_log(path)
    total = 0
    try:
        size = os.fstat(fd).st_size
        cap = gz_cap(size) if limit is None else limit
        pos = 0
        try:
            while pos < size:
                d = zlib.decompressobj(31)  # one gzip member; a file may hold several
                pending = b""
                while not d.eof:
                    if not pending:
                        if pos >= size:
                            raise EOFError("the file ends in the middle of a gzip stream")
                        pending = os.pread(fd, GZ_SLICE, pos)
                        if not pending:
                            raise EOFError("the file ends in the middle of a gzip stream")
                        pos += len(pending)
                    out = d.decompress(pending, GZ_SLICE)
                    pending = d.unconsumed_tail
                    if total + len(out) > cap:
                        sink(out[:cap - total])
                        total = cap
                        if limit is None:
                            warnings.append(HistoryWarning(
                                str(path), total, f"inflates to over {cap} bytes "
                                f"({GZ_MAX_RATIO}x its size: a decompression bomb?); "
                                "read up to here"))
                        return total
                    if out:
                        sink(out)
                        total += len(out)
                pos -= len(d.unused_data)
                if os.pread(fd, 2, pos) != b"\x1f\x8b":  # no further member (padding, junk)
                    break
        except (EOFError, zlib.error) as exc:
            warnings.append(HistoryWarning(str(path), total,
                                           f"damaged gzip file, read up to here ({exc})"))
    finally:
        os.close(fd)
    return total


def read_gz(path: Path, warnings: list[HistoryWarning]) -> bytes:
    """The inflated bytes of a (small) .gz file; the scan streams them instead."""
    out: list[bytes] = []
    inflate(path, out.append, warnings)
    return b"".join(out)


def inflate_to_file(path: Path, warnings: list[HistoryWarning]) -> tuple[int, int]:
    """`path` inflated into an unnamed temporary file: (its descriptor, its size)."""
    import tempfile  # only when a rotated .gz is read: every warm run needs none

    with tempfile.TemporaryFile() as fh:
        size = inflate(path, fh.write, warnings)
        fh.flush()
        return os.dup(fh.fileno()), size


class GzPrefetch:
    """Inflate the `.gz` files a scan will need, a few at a time on other threads, in
    the order the scan reads them (each into a temporary file: no memory for its size)."""

    def __init__(self, paths: list[Path], ahead: int | None = None) -> None:
        self._paths = list(paths)
        self._ahead = ahead or max(1, min(4, os.cpu_count() or 1))
        self._pool: ThreadPoolExecutor | None = None
        if len(paths) > 1:
            # Imported here: a history with no rotated .gz (every incremental run) needs none.
            from concurrent.futures import ThreadPoolExecutor
            self._pool = ThreadPoolExecutor(max_workers=self._ahead)
        self._futures: dict[Path, Future[tuple[int, int, list[HistoryWarning]]]] = {}
        self._next = 0
        self._fill()

    @staticmethod
    def _inflate(path: Path) -> tuple[int, int, list[HistoryWarning]]:
        warnings: list[HistoryWarning] = []
        fd, size = inflate_to_file(path, warnings)
        return fd, size, warnings

    def _fill(self) -> None:
        while self._pool is not None and self._next < len(self._paths) \
                and len(self._futures) < self._ahead:
            path = self._paths[self._next]
            self._futures[path] = self._pool.submit(self._inflate, path)
            self._next += 1

    def open(self, path: Path, warnings: list[HistoryWarning]) -> tuple[int, int]:
        """(descriptor, size) of `path` inflated; the caller closes the descriptor."""
        future = self._futures.pop(path, None)
        if future is None:
            return inflate_to_file(path, warnings)
        fd, size, found = future.result()
        warnings.extend(found)
        self._fill()
        return fd, size

    def read(self, path: Path, warnings: list[HistoryWarning]) -> bytes:
        fd, size = self.open(path, warnings)
        try:
            return LogBytes(fd, size)[0:size]
        finally:
            os.close(fd)

    def close(self) -> None:
        if self._pool is not None:
            for future in self._futures.values():
                future.cancel()
            self._pool.shutdown(wait=True)
            for future in self._futures.values():
                if future.done() and not future.cancelled() and future.exception() is None:
                    os.close(future.result()[0])
            self._futures.clear()


@contextlib.contextmanager
def open_buffer(path: Path, warnings: list[HistoryWarning],
                prefetch: GzPrefetch | None = None) -> Iterator[LogBytes]:
    """`path`'s bytes (inflated for `.gz`) as a LogBytes; OSError when it cannot be read."""
    if is_gz(path):
        fd, size = (prefetch.open(path, warnings) if prefetch is not None
                    else inflate_to_file(path, warnings))
    else:
        fd = open_log(path)
        size = os.fstat(fd).st_size
    try:
        yield LogBytes(fd, size)
    finally:
        os.close(fd)


def read_span(span: LogSpan, max_bytes: int = 8 * 1024 * 1024) -> tuple[bytes, bool]:
    """The bytes of a span (its last `max_bytes` when longer); True when cut."""
    start, cut = span.start, False
    if span.end - start > max_bytes:
        start, cut = span.end - max_bytes, True
    path = Path(span.path)
    with open_buffer(path, []) as buf:
        return buf[start:span.end], cut


def run_log_lines(run: Run, max_bytes: int = 8 * 1024 * 1024) -> tuple[list[str], bool]:
    """A run's slice of the log as text lines (plain text, never markup); True when cut."""
    lines: list[str] = []
    cut_any = False
    for span in run.spans:
        try:
            data, cut = read_span(span, max_bytes)
        except OSError as exc:
            lines.append(f"(cannot read {span.path}: {exc.strerror})")
            continue
        cut_any = cut_any or cut
        raw_lines = data.split(b"\n")
        if cut:
            raw_lines = raw_lines[1:]  # the first one is a partial line
        if raw_lines and raw_lines[-1] == b"":
            raw_lines.pop()
        lines.extend(decode(r) for r in raw_lines)
    return lines, cut_any
