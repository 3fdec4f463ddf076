"""Which files hold the history (the log, its rotations, `dateext` names) and reading them:
mmap for plain files, a copy for the live log, decompression for `.gz`."""

from __future__ import annotations

import contextlib
import mmap
import os
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from tui.core.history.model import HistoryWarning, LogSpan, Run
from tui.core.logline import decode

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

# Compressed bytes fed to zlib at a time.
GZ_SLICE = 1 << 20
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
    if numbered:
        for n in range(max(numbered), 0, -1):
            if n not in numbered:
                warnings.append(HistoryWarning(f"{log}.{n}", None,
                                               "missing rotated file (a gap in the history)"))
                continue
            # FILE.N.gz and FILE.N both present (a half-finished compression): plain last.
            files.extend(sorted(numbered[n], key=lambda p: not p.name.endswith(".gz")))
    if log.exists():
        files.append(log)
    elif not files:
        warnings.append(HistoryWarning(str(log), None, "log file does not exist (no runs yet)"))
    return files, warnings


# --- reading files ----------------------------------------------------------------------------
def is_gz(path: Path) -> bool:
    return path.name.endswith(".gz")


def read_gz(path: Path, warnings: list[HistoryWarning]) -> bytes:
    """Decompress as much as can be read; a damaged archive keeps what came before.

    zlib releases the GIL while it inflates, so several files can be read at once on
    several cores (GzPrefetch); the input is fed in slices so that damage loses little."""
    raw = path.read_bytes()
    out: list[bytes] = []
    pos = 0
    try:
        while pos < len(raw):
            d = zlib.decompressobj(31)  # one gzip member; a file may hold several
            while not d.eof and pos < len(raw):
                piece = raw[pos:pos + GZ_SLICE]
                out.append(d.decompress(piece))
                pos += len(piece) - len(d.unused_data)
            if not d.eof:
                raise EOFError("the file ends in the middle of a gzip stream")
            out.append(d.flush())
            if raw[pos:pos + 2] != b"\x1f\x8b":  # no further member (zero padding, junk)
                break
    except (EOFError, zlib.error) as exc:
        warnings.append(HistoryWarning(str(path), sum(map(len, out)),
                                       f"damaged gzip file, read up to here ({exc})"))
    return b"".join(out)


class GzPrefetch:
    """Decompress the `.gz` files a scan will need, a few at a time on other threads, in
    the order the scan reads them (at most `ahead` waiting in memory)."""

    def __init__(self, paths: list[Path], ahead: int | None = None) -> None:
        self._paths = list(paths)
        self._ahead = ahead or max(1, min(4, os.cpu_count() or 1))
        self._pool: ThreadPoolExecutor | None = None
        if len(paths) > 1:
            # Imported here: a history with no rotated .gz (every incremental run) needs none.
            from concurrent.futures import ThreadPoolExecutor
            self._pool = ThreadPoolExecutor(max_workers=self._ahead)
        self._futures: dict[Path, Future[tuple[bytes, list[HistoryWarning]]]] = {}
        self._next = 0
        self._fill()

    @staticmethod
    def _read(path: Path) -> tuple[bytes, list[HistoryWarning]]:
        warnings: list[HistoryWarning] = []
        return read_gz(path, warnings), warnings

    def _fill(self) -> None:
        while self._pool is not None and self._next < len(self._paths) \
                and len(self._futures) < self._ahead:
            path = self._paths[self._next]
            self._futures[path] = self._pool.submit(self._read, path)
            self._next += 1

    def read(self, path: Path, warnings: list[HistoryWarning]) -> bytes:
        future = self._futures.pop(path, None)
        if future is None:
            return read_gz(path, warnings)
        data, found = future.result()
        warnings.extend(found)
        self._fill()
        return data

    def close(self) -> None:
        if self._pool is not None:
            for future in self._futures.values():
                future.cancel()
            self._pool.shutdown(wait=True)
            self._futures.clear()


# The live log is copied out before it is scanned, up to this much: a `copytruncate` while
# a file mapping of it is being read kills the process with SIGBUS (no exception to catch).
# Above this (a cold scan of a huge live log) the file is mapped, as rotated files are.
LIVE_COPY_LIMIT = 256 * 1024 * 1024


@contextlib.contextmanager
def open_buffer(path: Path, warnings: list[HistoryWarning], whole: bool = True,
                 live: bool = False, start: int = 0,
                 prefetch: GzPrefetch | None = None) -> Iterator[mmap.mmap | bytes]:
    if is_gz(path):
        yield prefetch.read(path, warnings) if prefetch is not None else read_gz(path, warnings)
        return
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            yield b""
            return
        if live and size - start <= LIVE_COPY_LIMIT:
            # An anonymous mapping of the file's size, holding a copy of [start, size):
            # offsets stay absolute, and the untouched pages before `start` cost nothing.
            data = os.pread(fh.fileno(), size - start, start)
            copy = mmap.mmap(-1, max(1, start + len(data)))
            copy[start:start + len(data)] = data
            del data
            try:
                yield copy
            finally:
                copy.close()
            return
        # MAP_POPULATE maps the whole file in one go: half the cost of faulting it page by
        # page during the first find(). Not for a re-scan of the end only.
        flags = mmap.MAP_SHARED | (getattr(mmap, "MAP_POPULATE", 0) if whole else 0)
        mm = mmap.mmap(fh.fileno(), size, flags=flags, prot=mmap.PROT_READ)
        try:
            yield mm
        finally:
            mm.close()


def read_span(span: LogSpan, max_bytes: int = 8 * 1024 * 1024) -> tuple[bytes, bool]:
    """The bytes of a span (its last `max_bytes` when longer); True when cut."""
    start, cut = span.start, False
    if span.end - start > max_bytes:
        start, cut = span.end - max_bytes, True
    path = Path(span.path)
    if span.compressed:
        data = read_gz(path, [])
        return data[start:span.end], cut
    with open(path, "rb") as fh:
        fh.seek(start)
        return fh.read(span.end - start), cut


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
