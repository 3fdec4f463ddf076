"""Log files → Run records: the history scanner and its incremental index.

Years of nightly logs are a gigabyte or more, and a Python loop over every line is 7–20×
slower than grep. So the scanner does not parse every line. It maps each file and looks for
a few byte needles with `bytes.find` (which runs at memory speed):

* `[` at the start of a line: candidate markers, confirmed with `markers.parse_marker`;
* the ERROR level of each run's format (`ERROR :` for text runs, `"level":"error"` for the
  runner's JSON runs), only inside runs;
* the last stats block (`\\nTransferred:`) or JSON stats line of a run, found with `rfind`
  backwards from its end marker — rclone's stats are cumulative, so the last one holds the
  run's totals.

Small runs (under `FULL_PARSE_BYTES`) and runs with no end marker are parsed line by line
through `LineParser` and `runstate.apply`, the same reducer the dashboard uses, which also
counts per-file lines for a run killed before its final stats.

Each file's result is cached under `$XDG_CACHE_HOME/space-mirror/`, keyed by device, inode,
size, mtime and a hash of its first 4 KiB. Rotated files are never re-read; a live log that
only grew is re-read from where its last complete run ended.

Nothing in a log stops the scan: junk, NUL bytes, invalid UTF-8, huge lines, a cut-off last
line, missing or unreadable rotated files all become warnings.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import mmap
import os
import re
import tempfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tui.core.logline import LineParser, LogRecord, StatsUpdate, decode, parse_line
from tui.core.markers import COMPLETE_TEXT, Marker, MarkerKind, parse_marker
from tui.core.runstate import IO_ERRORS_SKIP_DELETES, Outcome, RunState, apply, outcome_for
from tui.core.stats import Stats
from tui.core.triage import ClassCount, Tally
from tui.core.verify import counts_from_fields

CACHE_VERSION = 2
HEAD_BYTES = 4096
# Runs smaller than this are parsed line by line: exact, and cheap at this size.
FULL_PARSE_BYTES = 256 * 1024
# A run with no end marker has no final stats: its per-file lines are counted (with
# bytes.count over a copy of its bytes) up to this size.
OPEN_COUNT_BYTES = 256 * 1024 * 1024
# A window of this many bytes without a newline means a line at least this long.
LONG_LINE_WINDOW = 512 * 1024
MAX_WARNINGS_PER_FILE = 50
MAX_FAILED_FILES = 1000
MAX_MARKER_LINE = 4096

_TEXT_ERROR = b" ERROR : "
_TEXT_CRITICAL = b" CRITICAL: "
_JSON_ERROR = b'"level":"error"'
_JSON_CRITICAL = b'"level":"critical"'
_TEXT_PER_FILE = {"copied": b": Copied (", "deleted": b": Deleted\n",
                  "renamed": b": Renamed from "}
_JSON_PER_FILE = {"copied": b'"msg":"Copied (', "deleted": b'"msg":"Deleted"',
                  "renamed": b'"msg":"Renamed from '}
_TEXT_STATS = b"\nTransferred:"
_JSON_STATS = b'"stats":{'
# Objects of ERROR lines that are a whole remote or a summary, not a file.
_NOT_A_FILE = re.compile(
    r"file system at |^Attempt \d+/\d+|^\S+ (?:bucket|container|root|drive) |^[a-z0-9]+://"
    r"|^(?:S3|B2|Azure|Google|sftp|webdav|ftp|http|Dropbox|OneDrive|Swift)\b"
)
_ROTATED = re.compile(r"^\.(\d+)(\.gz)?$")
_DATEEXT = re.compile(r"^-(\d{8}(?:\d{2})?(?:-\d+)?)(\.gz)?$")


# --- records ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class HistoryWarning:
    """Something in the logs that was skipped; never fatal."""

    file: str
    offset: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: byte {self.offset}" if self.offset is not None else self.file
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class LogSpan:
    """Where (part of) a run's lines are: a byte range of one (maybe gzipped) file."""

    path: str
    start: int
    end: int
    compressed: bool = False


@dataclass(frozen=True, slots=True)
class Run:
    id: str
    legacy: bool
    job: str | None
    started: datetime | None
    ended: datetime | None
    outcome: Outcome
    exit_code: int | None
    dry_run: bool
    reason: str | None
    bytes: int | None
    transfers: int | None
    checks: int | None
    deletes: int | None
    renames: int | None
    errors: int | None
    elapsed: float | None
    error_lines: int
    error_classes: tuple[ClassCount, ...]
    failed_files: tuple[str, ...]
    deletes_skipped: bool
    spans: tuple[LogSpan, ...]
    # "sync", "dry-run" or "verify" (a sampled `rclone check`, see docs/verify.md).
    mode: str = "sync"
    verify: dict[str, int] | None = None  # a verify's counts (tui/core/verify.py)

    @property
    def duration_s(self) -> float | None:
        if self.started is not None and self.ended is not None:
            marker_span = max(0.0, (self.ended - self.started).total_seconds())
            # Legacy markers have whole seconds: rclone's own elapsed time is finer.
            if self.elapsed is not None and abs(self.elapsed - marker_span) < 2:
                return round(self.elapsed, 1)
            return marker_span
        return None if self.elapsed is None else round(self.elapsed, 1)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "started": _iso(self.started),
            "ended": _iso(self.ended),
            "duration_s": self.duration_s,
            "outcome": str(self.outcome),
            "exit_code": self.exit_code,
            "dry_run": self.dry_run,
            "mode": self.mode,
            "verify": self.verify,
            "bytes": self.bytes,
            "transfers": self.transfers,
            "checks": self.checks,
            "deletes": self.deletes,
            "renames": self.renames,
            "errors": self.errors,
            "error_classes": [
                {"class": c.cls, "count": c.count, "example": c.example}
                for c in self.error_classes
            ],
            "failed_files": list(self.failed_files),
        }


@dataclass(slots=True)
class History:
    runs: list[Run]
    warnings: list[HistoryWarning]
    files: list[Path] = field(default_factory=list)

    def as_json(self, limit: int | None = None) -> dict[str, Any]:
        runs = self.runs if not limit or limit <= 0 else self.runs[-limit:]
        return {"runs": [r.as_json() for r in runs],
                "warnings": [str(w) for w in self.warnings]}


# --- per-file scan results (what the cache holds) ---------------------------------------------
@dataclass(slots=True)
class Fragment:
    """A run as seen inside one file. A run cut by rotation has two fragments."""

    region_start: int
    region_end: int
    start_line: str | None = None  # the start marker's text (None: the file began mid-run)
    end_line: str | None = None  # the end marker's text (None: still open in this file)
    # The markers, parsed once at scan time and cached: re-parsing ~2 000 marker lines
    # (legacy `date` output needs a regex) was the largest cost of an incremental run.
    start_marker: dict[str, Any] | None = None
    end_marker: dict[str, Any] | None = None
    stats: dict[str, float] | None = None
    counted: dict[str, int] | None = None  # per-file line counts (line-by-line parse only)
    error_lines: int = 0
    classes: list[list[Any]] = field(default_factory=list)  # [class, count, example]
    failed_files: list[str] = field(default_factory=list)
    deletes_skipped: bool = False

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fragment:
        return cls(**{k: data[k] for k in cls.__slots__ if k in data})


@dataclass(slots=True)
class FileScan:
    fragments: list[Fragment]
    warnings: list[HistoryWarning]
    size: int

    @property
    def resume_offset(self) -> int:
        """Where a re-scan of a grown file starts: after the last run that ended."""
        ends = [f.region_end for f in self.fragments if f.end_line is not None]
        return max(ends) if ends else 0


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


# --- the scanner ------------------------------------------------------------------------------
class _Buffer:
    """A file's bytes: mmap for plain files, decompressed bytes for .gz."""

    def __init__(self, data: mmap.mmap | bytes) -> None:
        self.data = data

    def close(self) -> None:
        if isinstance(self.data, mmap.mmap):
            self.data.close()


def _line_bounds(buf: mmap.mmap | bytes, pos: int, lo: int, hi: int) -> tuple[int, int]:
    """[start, end) of the line around `pos`; `end` is past the newline when there is one."""
    start = buf.rfind(b"\n", lo, pos) + 1
    if start <= 0:
        start = lo
    nl = buf.find(b"\n", pos, hi)
    return start, (hi if nl == -1 else nl + 1)


class _FileScanner:
    def __init__(self, name: str, buf: mmap.mmap | bytes, lo: int, hi: int) -> None:
        self.name = name
        self.buf = buf
        self.lo = lo
        self.hi = hi
        self.warnings: list[HistoryWarning] = []
        self._suppressed = 0

    def warn(self, offset: int | None, message: str) -> None:
        if len(self.warnings) >= MAX_WARNINGS_PER_FILE:
            self._suppressed += 1
            return
        self.warnings.append(HistoryWarning(self.name, offset, message))

    def text(self, start: int, end: int) -> str:
        """Decode one line; invalid UTF-8 is replaced and reported."""
        raw = self.buf[start:min(end, start + MAX_MARKER_LINE * 4)]
        if not raw.isascii():
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                self.warn(start + exc.start, "invalid UTF-8 (shown as \ufffd)")
        return decode(raw)

    # -- whole-file checks -------------------------------------------------------------------
    def check_garbage(self) -> None:
        buf, lo, hi = self.buf, self.lo, self.hi
        pos = buf.find(b"\x00", lo, hi)
        while pos != -1:
            _, end = _line_bounds(buf, pos, lo, hi)
            self.warn(pos, "NUL bytes (binary junk, e.g. after a crash) skipped")
            pos = buf.find(b"\x00", end, hi)
        p = lo
        while p + LONG_LINE_WINDOW <= hi:
            q = p + LONG_LINE_WINDOW
            if buf.find(b"\n", p, q) == -1:
                start = buf.rfind(b"\n", lo, p) + 1 or lo
                nl = buf.find(b"\n", q, hi)
                end = hi if nl == -1 else nl + 1
                self.warn(start, f"a line of {end - start} bytes (junk?) skipped")
                p = end
            else:
                p = q
        if hi > lo and buf[hi - 1:hi] != b"\n":
            start = buf.rfind(b"\n", lo, hi) + 1 or lo
            self.warn(start, "the last line has no newline (cut short, or still being written)")

    # -- markers -----------------------------------------------------------------------------
    def markers(self) -> list[tuple[int, int, Marker, str]]:
        """(line start, line end, marker, text) for every marker line in [lo, hi)."""
        buf, lo, hi = self.buf, self.lo, self.hi
        found: list[tuple[int, int, Marker, str]] = []
        # '[' is rare in rclone's text lines, and a one-byte find is a memchr. JSON stats lines
        # carry '[' too, so when the hits get dense, switch to the marker text itself.
        pos = buf.find(b"[", lo, hi)
        misses = 0
        while pos != -1:
            if misses > 64 and misses > len(found) * 8:
                return found + self._markers_by_text(pos)
            if pos == lo or buf[pos - 1] in b"\n\x00":
                nl = buf.find(b"\n", pos, min(hi, pos + MAX_MARKER_LINE))
                end = hi if nl == -1 else nl + 1
                head = buf[pos:min(end, pos + 80)]
                if b"Space Mirror" in head:
                    text = self.text(pos, end)
                    marker = parse_marker(text)
                    if marker is not None:
                        found.append((pos, end, marker, text))
                        pos = buf.find(b"[", end, hi)
                        continue
            misses += 1
            pos = buf.find(b"[", pos + 1, hi)
        return found

    def _markers_by_text(self, start: int) -> list[tuple[int, int, Marker, str]]:
        buf, lo, hi = self.buf, self.lo, self.hi
        found: list[tuple[int, int, Marker, str]] = []
        pos = buf.find(b"Space Mirror", start, hi)
        while pos != -1:
            ls = buf.rfind(b"\n", max(lo, pos - 200), pos) + 1 or max(lo, pos - 200)
            if ls < start:
                pos = buf.find(b"Space Mirror", pos + 1, hi)
                continue
            ls = max(ls, buf.rfind(b"\x00", ls, pos) + 1)
            nl = buf.find(b"\n", pos, hi)
            end = hi if nl == -1 else nl + 1
            if buf[ls:ls + 1] == b"[":
                text = self.text(ls, end)
                marker = parse_marker(text)
                if marker is not None:
                    found.append((ls, end, marker, text))
            pos = buf.find(b"Space Mirror", end, hi)
        return found

    # -- runs ----------------------------------------------------------------------------------
    def fragments(self) -> list[Fragment]:
        frags: list[Fragment] = []
        cur: Fragment | None = None
        cur_id: str | None = None
        region_floor = self.lo  # content before this belongs to an earlier, ended run
        for start, end, marker, text in self.markers():
            if marker.kind is MarkerKind.START:
                if cur is not None:
                    cur.region_end = start
                    frags.append(cur)
                cur = Fragment(region_start=start, region_end=self.hi, start_line=text,
                               start_marker=_marker_dict(marker))
                cur_id = marker.run_id
                continue
            if cur is not None and cur_id and marker.run_id and cur_id != marker.run_id:
                # Another run's ending: the open run never wrote its own.
                cur.region_end = start
                frags.append(cur)
                cur = None
            if cur is None:
                cur = Fragment(region_start=region_floor, region_end=end)
            cur.end_line = text
            cur.end_marker = _marker_dict(marker)
            cur.region_end = end
            frags.append(cur)
            cur = None
            region_floor = end
        if cur is not None:
            cur.region_end = self.hi
            frags.append(cur)
        for frag in frags:
            self.fill(frag)
        self._check_gaps(frags)
        return frags

    def _check_gaps(self, frags: list[Fragment]) -> None:
        # Lines outside any run (hook messages, stray output, junk) are not parsed, but
        # invalid UTF-8 there is still worth a warning when the stretch is small.
        pos = self.lo
        for frag in [*frags, Fragment(self.hi, self.hi)]:
            if 0 < frag.region_start - pos <= FULL_PARSE_BYTES:
                raw = self.buf[pos:frag.region_start]
                if not raw.isascii():
                    self._report_bad_utf8(raw.replace(b"\x00", b"\n"), pos)
            pos = max(pos, frag.region_end)

    def fill(self, frag: Fragment) -> None:
        if frag.region_end - frag.region_start <= FULL_PARSE_BYTES:
            self._parse_lines(frag)
        else:
            self._scan_needles(frag)

    def _parse_lines(self, frag: Fragment) -> None:
        raw = self.buf[frag.region_start:frag.region_end]
        if not raw.isascii():
            self._report_bad_utf8(raw, frag.region_start)
        parser = LineParser()
        state = RunState()
        tally = Tally()
        offset = frag.region_start
        for line in raw.split(b"\n"):
            line_start = offset
            offset += len(line) + 1
            if len(line) > LONG_LINE_WINDOW or b"\x00" in line:
                continue  # reported by check_garbage
            for event in parser.feed(decode(line)):
                state = apply(state, event)
                if isinstance(event, LogRecord) and event.is_error:
                    self._error(frag, tally, event, line, line_start)
        for event in parser.flush():
            state = apply(state, event)
        if state.stats is not None:
            frag.stats = _stats_dict(state.stats)
        frag.counted = {"copied": state.copied, "deleted": state.deleted,
                        "renamed": state.renamed}
        frag.deletes_skipped = frag.deletes_skipped or state.deletes_skipped_for_io_errors
        frag.classes = [[c.cls, c.count, c.example] for c in tally.result()]

    def _report_bad_utf8(self, raw: bytes, base: int) -> None:
        pos = 0
        while pos < len(raw):
            try:
                raw[pos:].decode("utf-8")
                return
            except UnicodeDecodeError as exc:
                bad = pos + exc.start
                self.warn(base + bad, "invalid UTF-8 (shown as \ufffd)")
                nl = raw.find(b"\n", bad)
                if nl == -1:
                    return
                pos = nl + 1

    def _scan_needles(self, frag: Fragment) -> None:
        buf, lo, hi = self.buf, frag.region_start, frag.region_end
        json_run = _is_runner_marker(frag)
        needles = [_JSON_ERROR if json_run else _TEXT_ERROR]
        # Each needle costs a pass over the run's bytes. CRITICAL is what rclone logs just
        # before a fatal exit, so a run that completed cannot hold one: skip that pass.
        if frag.end_line is None or COMPLETE_TEXT not in frag.end_line:
            needles.append(_JSON_CRITICAL if json_run else _TEXT_CRITICAL)
        tally = Tally()
        hits: list[int] = []
        for needle in needles:
            pos = buf.find(needle, lo, hi)
            while pos != -1:
                hits.append(pos)
                pos = buf.find(needle, pos + len(needle), hi)
        seen_line = -1
        for pos in sorted(hits):
            start, end = _line_bounds(buf, pos, lo, hi)
            if start == seen_line or end - start > LONG_LINE_WINDOW:
                continue
            seen_line = start
            line = buf[start:end].rstrip(b"\r\n")
            event = parse_line(self.text(start, end))
            if isinstance(event, LogRecord) and event.is_error:
                self._error(frag, tally, event, line, start)
        frag.classes = [[c.cls, c.count, c.example] for c in tally.result()]
        stats = self._last_stats(frag, lo, hi)
        if stats is not None:
            frag.stats = _stats_dict(stats)
        if (frag.end_line is None or frag.stats is None) and hi - lo <= OPEN_COUNT_BYTES:
            # Killed, aborted (rclone prints no stats on a signal) or still running: no final
            # stats, so count what the per-file lines say (the lines runstate.apply counts).
            region = bytes(buf[lo:hi])
            per_file = _JSON_PER_FILE if json_run else _TEXT_PER_FILE
            frag.counted = {k: region.count(n) for k, n in per_file.items()}

    def _error(self, frag: Fragment, tally: Tally, rec: LogRecord, raw: bytes,
               offset: int) -> None:
        frag.error_lines += 1
        text = rec.text
        if rec.msg.startswith(IO_ERRORS_SKIP_DELETES):
            frag.deletes_skipped = True
        cls = tally.add(rec.msg, example=text)
        if cls is None or rec.object is None or len(frag.failed_files) >= MAX_FAILED_FILES:
            return
        if raw[:1] == b"{":
            object_type = _json_field(raw, "objectType")
            if object_type is not None and not object_type.endswith(("Object", "Directory")):
                return
        if _NOT_A_FILE.search(rec.object):
            return
        if rec.object not in frag.failed_files:
            frag.failed_files.append(rec.object)

    def _last_stats(self, frag: Fragment, lo: int, hi: int) -> Stats | None:
        buf = self.buf
        # Each rfind runs back to `lo` when it finds nothing: look only for the run's format.
        json_run = _is_runner_marker(frag)
        text_pos = -1 if json_run else buf.rfind(_TEXT_STATS, lo, hi)
        json_pos = buf.rfind(_JSON_STATS, lo, hi) if json_run else -1
        if json_pos > text_pos:
            start, end = _line_bounds(buf, json_pos, lo, hi)
            event = parse_line(decode(buf[start:end]))
            return event.stats if isinstance(event, StatsUpdate) else None
        if text_pos == -1:
            return None
        # The block is `<time> INFO  : ` then lines up to a blank one; the last "Transferred:"
        # may be its second (file count) line, so walk back to the header.
        pos = text_pos
        for _ in range(16):
            ls = buf.rfind(b"\n", lo, pos) + 1 or lo
            line = buf[ls:pos]
            if line[:1].isdigit() and line.rstrip().endswith(b":"):
                block_end = buf.find(b"\n\n", text_pos, hi)
                end = hi if block_end == -1 else block_end + 2
                parser = LineParser()
                events = []
                for raw in buf[ls:end].split(b"\n"):
                    events.extend(parser.feed(decode(raw)))
                events.extend(parser.flush())
                found = [e.stats for e in events if isinstance(e, StatsUpdate)]
                return found[-1] if found else None
            if ls <= lo:
                return None
            pos = ls - 1
        return None

    def scan(self) -> FileScan:
        self.check_garbage()
        frags = self.fragments()
        if self._suppressed:
            self.warnings.append(HistoryWarning(self.name, None,
                                                f"{self._suppressed} more warnings not shown"))
        return FileScan(frags, self.warnings, self.hi)


def _marker_dict(marker: Marker) -> dict[str, Any]:
    return {"kind": str(marker.kind), "time": _iso(marker.time),
            "exit": marker.exit_code, "fields": marker.fields}


def _marker_from(data: dict[str, Any] | None, line: str | None) -> Marker | None:
    if data is not None:
        try:
            when = data["time"]
            return Marker(MarkerKind(data["kind"]),
                          datetime.fromisoformat(when) if when else None,
                          data["exit"], dict(data["fields"]))
        except (KeyError, ValueError, TypeError):
            pass
    return parse_marker(line) if line else None


def _is_runner_marker(frag: Fragment) -> bool:
    line = frag.start_line or frag.end_line or ""
    return " run=" in line


def _json_field(raw: bytes, name: str) -> str | None:
    try:
        obj = json.loads(raw)
    except ValueError:
        return None
    value = obj.get(name) if isinstance(obj, dict) else None
    return value if isinstance(value, str) else None


def _stats_dict(s: Stats) -> dict[str, float]:
    return {"bytes": s.bytes, "transfers": s.transfers, "checks": s.checks,
            "deletes": s.deletes, "renames": s.renames, "errors": s.errors,
            "elapsed": s.elapsed}


def scan_bytes(name: str, buf: mmap.mmap | bytes, lo: int = 0,
               hi: int | None = None) -> FileScan:
    """Scan one file's bytes [lo, hi) into run fragments (no cache). Never raises on content."""
    return _FileScanner(name, buf, lo, len(buf) if hi is None else hi).scan()


# --- reading files ----------------------------------------------------------------------------
def _is_gz(path: Path) -> bool:
    return path.name.endswith(".gz")


def _read_gz(path: Path, warnings: list[HistoryWarning]) -> bytes:
    """Decompress as much as can be read; a damaged archive keeps what came before."""
    out: list[bytes] = []
    try:
        with gzip.open(path, "rb") as fh:
            while True:
                chunk = fh.read(16 * 1024 * 1024)
                if not chunk:
                    break
                out.append(chunk)
    except (OSError, EOFError, zlib.error) as exc:
        warnings.append(HistoryWarning(str(path), sum(map(len, out)),
                                       f"damaged gzip file, read up to here ({exc})"))
    return b"".join(out)


# The live log is copied out before it is scanned, up to this much: a `copytruncate` while
# a file mapping of it is being read kills the process with SIGBUS (no exception to catch).
# Above this (a cold scan of a huge live log) the file is mapped, as rotated files are.
LIVE_COPY_LIMIT = 256 * 1024 * 1024


@contextlib.contextmanager
def _open_buffer(path: Path, warnings: list[HistoryWarning], whole: bool = True,
                 live: bool = False, start: int = 0) -> Iterator[mmap.mmap | bytes]:
    if _is_gz(path):
        yield _read_gz(path, warnings)
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
        data = _read_gz(path, [])
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


# --- the cache --------------------------------------------------------------------------------
def default_cache_dir(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "space-mirror"


def cache_path(cache_dir: Path, log: Path) -> Path:
    key = hashlib.sha256(str(log.absolute()).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return cache_dir / f"history-{key}.json"


def _head_hash(path: Path, length: int) -> str:
    with open(path, "rb") as fh:
        return hashlib.blake2b(fh.read(length), digest_size=16).hexdigest()


class _Cache:
    def __init__(self, path: Path | None, warnings: list[HistoryWarning]) -> None:
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}
        self.new_entries: dict[str, dict[str, Any]] = {}
        self.dirty = False
        if path is None:
            return
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        except OSError as exc:
            warnings.append(HistoryWarning(str(path), None,
                                           f"cannot read the history cache ({exc.strerror}); "
                                           "re-reading the logs"))
            return
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
                raise ValueError("unknown version")
            files = data["files"]
            if not isinstance(files, dict):
                raise ValueError("bad files")
            self.entries = files
        except (ValueError, KeyError, TypeError):
            warnings.append(HistoryWarning(str(path), None,
                                           "the history cache is corrupt; ignored and rebuilt"))
            self.dirty = True

    @staticmethod
    def key(st: os.stat_result) -> str:
        return f"{st.st_dev}:{st.st_ino}"

    def save(self, warnings: list[HistoryWarning]) -> None:
        if self.path is None:
            return
        if not self.dirty and set(self.new_entries) == set(self.entries):
            return
        data = {"version": CACHE_VERSION, "files": self.new_entries}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".history-", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    # dumps() uses the C encoder; dump() would encode in Python, piece by piece.
                    fh.write(json.dumps(data, separators=(",", ":")))
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            warnings.append(HistoryWarning(str(self.path), None,
                                           f"cannot write the history cache ({exc.strerror})"))


def _entry_to_scan(entry: dict[str, Any]) -> FileScan:
    return FileScan(
        fragments=[Fragment.from_json(f) for f in entry["fragments"]],
        warnings=[HistoryWarning(w[0], w[1], w[2]) for w in entry["warnings"]],
        size=int(entry["size"]),
    )


def _scan_to_entry(scan: FileScan, st: os.stat_result, head_len: int,
                   head: str) -> dict[str, Any]:
    return {
        "size": scan.size, "mtime_ns": st.st_mtime_ns, "head_len": head_len, "head": head,
        "fragments": [f.to_json() for f in scan.fragments],
        "warnings": [[w.file, w.offset, w.message] for w in scan.warnings],
    }


def _scan_file(path: Path, cache: _Cache, warnings: list[HistoryWarning],
               live: bool = False) -> FileScan | None:
    """One file's fragments, from the cache when it is still valid."""
    try:
        st = os.stat(path)
        head_len = min(HEAD_BYTES, st.st_size)
        head = _head_hash(path, head_len)
    except OSError as exc:
        warnings.append(HistoryWarning(str(path), None, f"cannot read: {exc.strerror}"))
        return None
    key = _Cache.key(st)
    entry = cache.entries.get(key)
    prior: FileScan | None = None
    if entry is not None:
        try:
            old_len = int(entry["head_len"])
            same_head = old_len <= st.st_size and (
                entry["head"] == head if old_len == head_len else
                entry["head"] == _head_hash(path, old_len))
            if same_head and entry["size"] == st.st_size and entry["mtime_ns"] == st.st_mtime_ns:
                cache.new_entries[key] = entry
                return _entry_to_scan(entry)
            if same_head and not _is_gz(path) and st.st_size >= int(entry["size"]):
                prior = _entry_to_scan(entry)
        except (KeyError, TypeError, ValueError, OSError):
            prior = None
    cache.dirty = True
    file_warnings: list[HistoryWarning] = []
    try:
        start = prior.resume_offset if prior is not None else 0
        with _open_buffer(path, file_warnings, whole=prior is None, live=live,
                          start=start) as buf:
            if prior is None:
                scan = scan_bytes(str(path), buf)
            else:
                resume = prior.resume_offset
                tail = scan_bytes(str(path), buf, resume, len(buf))
                kept = [f for f in prior.fragments if f.region_end <= resume]
                kept_w = [w for w in prior.warnings if w.offset is None or w.offset < resume]
                scan = FileScan(kept + tail.fragments, kept_w + tail.warnings, len(buf))
    except OSError as exc:
        warnings.append(HistoryWarning(str(path), None, f"cannot read: {exc.strerror}"))
        return None
    except ValueError as exc:  # mmap of a file that shrank under us
        warnings.append(HistoryWarning(str(path), None, f"cannot map: {exc}"))
        return None
    scan.warnings[:0] = file_warnings
    cache.new_entries[key] = _scan_to_entry(scan, st, head_len, head)
    return scan


# --- assembling runs --------------------------------------------------------------------------
RunningCheck = Callable[[str | None], bool]


def scan_history(
    log: Path,
    *,
    cache_dir: Path | None = None,
    use_cache: bool = True,
    is_running: RunningCheck | None = None,
) -> History:
    """Every run in `log` and its rotated siblings, oldest first.

    `is_running(run_id)` answers whether the run left open at the end of the newest file is
    still going (the caller asks the lock; `run_id` is None for a legacy wrapper run).
    """
    files, warnings = log_files(log)
    cache = _Cache(cache_path(cache_dir or default_cache_dir(), log) if use_cache else None,
                   warnings)
    pieces: list[tuple[Path, Fragment]] = []
    for path in files:
        scan = _scan_file(path, cache, warnings, live=path == log)
        if scan is None:
            continue
        warnings.extend(scan.warnings)
        pieces.extend((path, f) for f in scan.fragments)
    cache.save(warnings)
    return History(_assemble(pieces, is_running), warnings, files)


def _assemble(pieces: Sequence[tuple[Path, Fragment]],
              is_running: RunningCheck | None) -> list[Run]:
    groups: list[list[tuple[Path, Fragment]]] = []
    for path, frag in pieces:
        prev = groups[-1][-1][1] if groups else None
        if (frag.start_line is None and prev is not None and prev.end_line is None
                and groups[-1][-1][0] != path):
            groups[-1].append((path, frag))  # the rest of a run cut by rotation
        else:
            groups.append([(path, frag)])
    runs: list[Run] = []
    used: dict[str, int] = {}
    for i, group in enumerate(groups):
        run = _run_from(group, last=i == len(groups) - 1, is_running=is_running)
        n = used.get(run.id, 0) + 1
        used[run.id] = n
        if n > 1:
            run = _with_id(run, f"{run.id}-{n}")
        runs.append(run)
    return runs


def _with_id(run: Run, new_id: str) -> Run:
    return replace(run, id=new_id)


def _run_from(group: list[tuple[Path, Fragment]], last: bool,
              is_running: RunningCheck | None) -> Run:
    first, final = group[0][1], group[-1][1]
    start = _marker_from(first.start_marker, first.start_line)
    end = _marker_from(final.end_marker, final.end_line)
    some = start or end
    legacy = some.legacy if some is not None else True
    run_id = (start.run_id if start else None) or (end.run_id if end else None)
    started = start.time if start else None
    ended = end.time if end else None
    if end is not None:
        outcome = outcome_for(end.kind, end.exit_code)
    elif last and is_running is not None and is_running(run_id):
        outcome = Outcome.RUNNING
    else:
        outcome = Outcome.INCOMPLETE
    if run_id is None:
        when = started or ended
        run_id = "legacy-" + (when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
                              if when else "unknown")
    stats = _merge_stats([f.stats for _, f in group])
    counted = _merge_counts([f.counted for _, f in group])
    marker_counts = end.fields if end is not None and not end.legacy else {}

    def pick(name: str, stat_key: str, count_key: str | None) -> int | None:
        if name in marker_counts and end is not None:
            value = end.int_field(name)
            if value is not None:
                return value
        from_stats = int(stats[stat_key]) if stats is not None else None
        from_lines = counted.get(count_key) if counted and count_key else None
        if from_stats is None:
            return from_lines
        return max(from_stats, from_lines or 0)

    error_lines = sum(f.error_lines for _, f in group)
    errors = pick("errors", "errors", None)
    if errors is None and (counted is not None or error_lines):
        errors = error_lines
    elapsed = end.float_field("elapsed") if end is not None else None
    if elapsed is None and stats is not None and stats.get("elapsed"):
        elapsed = float(stats["elapsed"])
    tally = Tally()
    for _, f in group:
        for cls, count, example in f.classes:
            tally.merge(str(cls), int(count), str(example))
    classes = tally.result()
    failed: list[str] = []
    for _, f in group:
        failed.extend(x for x in f.failed_files if x not in failed)
    spans = tuple(LogSpan(str(p), f.region_start, f.region_end, _is_gz(p)) for p, f in group)
    return Run(
        id=run_id, legacy=legacy, job=some.fields.get("job") if some is not None else None,
        started=started, ended=ended,
        outcome=outcome, exit_code=end.exit_code if end else None,
        dry_run=bool(start and start.dry_run), reason=end.fields.get("reason") if end else None,
        bytes=pick("bytes", "bytes", None), transfers=pick("transfers", "transfers", "copied"),
        checks=pick("checks", "checks", None), deletes=pick("deletes", "deletes", "deleted"),
        renames=pick("renames", "renames", "renamed"), errors=errors, elapsed=elapsed,
        error_lines=error_lines, error_classes=classes, failed_files=tuple(failed),
        deletes_skipped=any(f.deletes_skipped for _, f in group), spans=spans,
        mode=some.fields.get("mode", "sync") if some is not None else "sync",
        verify=counts_from_fields(end.fields) if end is not None and end.verify else None,
    )


def _merge_stats(items: list[dict[str, float] | None]) -> dict[str, float] | None:
    # rclone's stats are cumulative for the process: the last block seen is the total.
    found = [s for s in items if s is not None]
    return found[-1] if found else None


def _merge_counts(items: list[dict[str, int] | None]) -> dict[str, int] | None:
    found = [c for c in items if c is not None]
    if not found:
        return None
    total: dict[str, int] = {}
    for c in found:
        for k, v in c.items():
            total[k] = total.get(k, 0) + v
    return total


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat(timespec="seconds")


__all__ = ["FileScan", "Fragment", "History", "HistoryWarning", "LogSpan", "Run",
           "default_cache_dir", "format_report", "log_files", "run_log_lines", "scan_bytes",
           "scan_history"]


# --- a plain-text triage report -----------------------------------------------------------------
def format_report(run: Run, log_lines: Sequence[str] = (), max_log_lines: int = 200) -> str:
    """A run's triage report as plain text (for a file, a ticket or the clipboard)."""
    from tui.core import exitcodes
    from tui.core.units import format_bytes, format_duration

    def num(v: int | None) -> str:
        return "unknown" if v is None else str(v)

    meaning = exitcodes.meaning(run.exit_code)
    out = [
        f"space-mirror run {run.id}" + (f" (job {run.job})" if run.job else ""),
        f"outcome:   {run.outcome}" + (" (dry run)" if run.dry_run else ""),
        f"started:   {_iso(run.started) or 'unknown'}",
        f"ended:     {_iso(run.ended) or 'unknown'}",
        f"duration:  {format_duration(run.duration_s)}",
        f"exit code: {num(run.exit_code)} — {meaning.meaning}",
        f"what to do: {meaning.advice}",
    ]
    if run.reason:
        out.append(f"reason:    {run.reason}")
    out.append(f"bytes {format_bytes(run.bytes) if run.bytes is not None else 'unknown'}, "
               f"transfers {num(run.transfers)}, checks {num(run.checks)}, "
               f"deletes {num(run.deletes)}, renames {num(run.renames)}, "
               f"errors {num(run.errors)}")
    if run.deletes_skipped:
        out.append("WARNING: rclone did not delete anything (\"not deleting files as there were "
                   "IO errors\"): the mirror still holds files removed from the source.")
    if run.error_classes:
        out.append("")
        out.append("error classes:")
        for c in run.error_classes:
            out.append(f"  {c.cls} ×{c.count}: {c.example}")
    if run.failed_files:
        out.append("")
        out.append(f"failed files ({len(run.failed_files)}):")
        out.extend(f"  {f}" for f in run.failed_files)
    if log_lines:
        shown = list(log_lines)[-max_log_lines:]
        out.append("")
        out.append(f"log (last {len(shown)} of {len(log_lines)} lines):")
        out.extend(shown)
    return "\n".join(out) + "\n"
