"""The byte scanner: one file's bytes → run fragments, without parsing every line.

It finds markers with a one-byte `find` for `[` at a line start, each run's ERROR lines by
their level's needle, and the run's last stats block with `rfind` back from its end.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from tui.core.history.files import WINDOW, LogBytes, find_each
from tui.core.history.model import FileScan, Fragment, HistoryWarning
from tui.core.logline import (
    MAX_DETAIL_LINES,
    Event,
    LineParser,
    LogRecord,
    MarkerLine,
    StatsUpdate,
    Unparsed,
    continues,
    decode,
    loads_bounded,
    parse_line,
    real_name,
)
from tui.core.markers import COMPLETE_TEXT, START_NEEDLE, Marker, MarkerKind, iso, parse_marker
from tui.core.runstate import IO_ERRORS_SKIP_DELETES, Outcome, RunState, apply_all, outcome_for
from tui.core.stats import Stats
from tui.core.triage import Tally

TYPE_CHECKING = False  # typing is 2 ms to import (issue 21)
if TYPE_CHECKING:
    from typing import Any

# Every run is searched with needles, whatever its size, so a night costs the same per byte
# whether it logged 300 lines or 3 million. Runs up to this size are parsed line by line
# instead: the reference path (the dashboard's parser and batch reducer), which the tests
# switch on to check that both paths agree on every recorded log. Off by default.
LINE_PARSE_BYTES = 0
# Stretches up to this size (small runs, the gaps between runs) are checked for invalid
# UTF-8, which `isascii()` rules out at memory speed for almost all of them.
UTF8_CHECK_BYTES = 256 * 1024
# A run with no end marker has no final stats: its per-file lines are counted (with
# bytes.count over a copy of its bytes) up to this size.
OPEN_COUNT_BYTES = 256 * 1024 * 1024
# A window of this many bytes without a newline means a line at least this long.
LONG_LINE_WINDOW = 512 * 1024
MAX_WARNINGS_PER_FILE = 50
# Lines after a start marker looked at to tell rclone's JSON lines from its text ones
# (hook output or junk can come first).
FORMAT_PROBE_LINES = 16
MAX_FAILED_FILES = 1000
MAX_CAUSES = 10000  # causes kept per fragment for merging across rotation
MAX_MARKER_LINE = 4096
# A scan of this much or more searches its needles with memmem (memmem.py): below it,
# loading ctypes costs more than the faster search saves (~0.25 ms a MB).
MEMMEM_BYTES = 8 * 1024 * 1024

_TEXT_ERROR = b"ERROR : "  # also journald's `<3>ERROR : `
_TEXT_CRITICAL = b"CRITICAL: "
_TEXT_FATAL = b" Failed to "  # Go's log.Fatalf line has no level
_JSON_ERROR = b'"level":"error"'
_JSON_CRITICAL = b'"level":"critical"'
# Per-file lines, counted only for a run without final stats. A text line's message is
# matched to its end: a file named `New: Copied (new).txt` must not count twice.
_TEXT_PER_FILE = {"copied": re.compile(rb": Copied \([^()\n]*\)\r?\n"),
                  "deleted": re.compile(rb": Deleted\r?\n"),
                  "renamed": re.compile(rb': Renamed from "[^\n]*"\r?\n')}
_JSON_PER_FILE = {"copied": re.compile(rb'"msg":"Copied \('),
                  "deleted": re.compile(rb'"msg":"Deleted"'),
                  "renamed": re.compile(rb'"msg":"Renamed from ')}
_TEXT_STATS = b"\nTransferred:"
_JSON_STATS = b'"stats":{'
# Objects of ERROR lines that are a whole remote or a summary, not a file.
_NOT_A_FILE = re.compile(
    r"file system at |^Attempt \d+/\d+|^\S+ (?:bucket|container|root|drive) |^[a-z0-9]+://"
    r"|^(?:S3|B2|Azure|Google|sftp|webdav|ftp|http|Dropbox|OneDrive|Swift)\b"
)


# --- the scanner ------------------------------------------------------------------------------
# What the scanner reads: a file through pread windows, or bytes (tests, small inputs).
Buf = LogBytes | bytes


def count_lines(buf: Buf, lo: int, hi: int) -> int:
    """Newlines in [lo, hi), without a copy of the range."""
    return buf.count(b"\n", lo, hi)


def count_matches(buf: Buf, patterns: list[re.Pattern[bytes]], lo: int, hi: int) -> list[int]:
    """Matches of each line-bound pattern in [lo, hi), without a copy of the range."""
    if isinstance(buf, LogBytes):
        return buf.count_lines_matching(patterns, lo, hi)
    return [len(pattern.findall(buf, lo, hi)) for pattern in patterns]


def find_all(buf: Buf, sub: bytes, lo: int, hi: int, out: list[int]) -> None:
    """Append the place of every `sub` in [lo, hi) to `out`, in order, non-overlapping."""
    if isinstance(buf, LogBytes):
        buf.find_all(sub, lo, hi, out)
    else:
        find_each(buf, sub, lo, hi, out)


def search_fast_for(buf: Buf, lo: int, hi: int) -> None:
    """Have `buf` search with memmem when [lo, hi) is large enough to pay for loading it.
    A split scan asks before it forks: one import of ctypes, not one in every part."""
    if hi - lo >= MEMMEM_BYTES and isinstance(buf, LogBytes):
        buf.search_fast()


def _line_bounds(buf: Buf, pos: int, lo: int, hi: int) -> tuple[int, int]:
    """[start, end) of the line around `pos`; `end` is past the newline when there is one."""
    start = buf.rfind(b"\n", lo, pos) + 1
    if start <= 0:
        start = lo
    nl = buf.find(b"\n", pos, hi)
    return start, (hi if nl == -1 else nl + 1)


class _FileScanner:
    def __init__(self, name: str, buf: Buf, lo: int, hi: int) -> None:
        self.name = name
        self.buf = buf
        self.lo = lo
        self.hi = hi
        self.warnings: list[HistoryWarning] = []
        self._suppressed = 0
        # The error needle of the run being passed over, and its hits so far: the marker
        # pass finds them in the windows it holds (a 95 MB re-sync is read once, not twice).
        self._needle: bytes | None = None
        self._needle_from = lo
        self._hits: list[int] = []
        self._furthest: tuple[int, str] = (-1, "")  # the furthest place kept, when full
        search_fast_for(buf, lo, hi)

    def warn(self, offset: int, message: str) -> None:
        """Keep the MAX_WARNINGS_PER_FILE first by place in the file, and count the rest:
        which ones show must not depend on the order the checks ran in, nor on where a
        scan started (a part of a split file, tui/core/history/split.py)."""
        warning = HistoryWarning(self.name, offset, message)
        if len(self.warnings) < MAX_WARNINGS_PER_FILE:
            self.warnings.append(warning)
            if len(self.warnings) == MAX_WARNINGS_PER_FILE:
                self._furthest = max(_place(w) for w in self.warnings)
            return
        self._suppressed += 1
        place = _place(warning)
        if place >= self._furthest:  # checks run roughly in file order: the usual case
            return
        i = max(range(len(self.warnings)), key=lambda k: _place(self.warnings[k]))
        self.warnings[i] = warning
        self._furthest = max(_place(w) for w in self.warnings)

    def text(self, start: int, end: int) -> str:
        """Decode one line; invalid UTF-8 is replaced and reported."""
        raw = self.buf[start:min(end, start + MAX_MARKER_LINE * 4)]
        if not raw.isascii():
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                self.warn(start + exc.start, "invalid UTF-8 (shown as \ufffd)")
        return decode(raw)

    # -- one pass over the file: junk and markers ------------------------------------------
    def markers(self) -> Iterator[tuple[int, int, Marker, str]]:
        """(line start, line end, marker, text) for every marker line in [lo, hi), with the
        whole-file checks (NUL bytes, huge lines, a cut-off last line) done on the way: each
        window of the file is read once for all of them. A generator: the caller reads each
        run while its windows are still held."""
        buf, lo, hi = self.buf, self.lo, self.hi
        found = 0
        nul_from = long_from = mark_from = lo
        misses = 0
        by_text = False
        for chunk in range(lo, hi, WINDOW):
            chunk_end = min(hi, chunk + WINDOW)
            self._collect(chunk)
            nul_from = self._nuls(max(nul_from, chunk), chunk_end)
            long_from = self._long_lines(long_from, chunk_end)
            # '[' is rare in rclone's text lines, and a one-byte find is a memchr. JSON stats
            # lines carry '[' too, so when the hits get dense, look for the marker text.
            while mark_from < chunk_end:
                if not by_text and misses > 64 and misses > found * 8:
                    by_text = True
                if by_text:
                    mark_from, hit = self._marker_by_text(mark_from, chunk_end)
                    if hit is not None:
                        found += 1
                        self._collect(hit[0])
                        yield hit
                        self._needle_from = hit[1]
                    continue
                pos = buf.find(b"[", mark_from, chunk_end)
                if pos == -1:
                    mark_from = chunk_end
                    break
                mark_from = pos + 1
                if pos == lo or buf[pos - 1:pos] in (b"\n", b"\x00"):
                    nl = buf.find(b"\n", pos, min(hi, pos + MAX_MARKER_LINE))
                    end = hi if nl == -1 else nl + 1
                    if b"Space Mirror" in buf[pos:min(end, pos + 80)]:
                        text = self.text(pos, end)
                        marker = parse_marker(text)
                        if marker is not None:
                            found += 1
                            self._collect(pos)
                            yield pos, end, marker, text
                            self._needle_from = end
                            mark_from = end
                            continue
                misses += 1
        self._collect(hi)
        if hi > lo and buf[hi - 1:hi] != b"\n":
            start = buf.rfind(b"\n", lo, hi) + 1 or lo
            self.warn(start, "the last line has no newline (cut short, or still being written)")

    def _collect(self, upto: int) -> None:
        """Hits of the current error needle in [where the last search stopped, upto)."""
        needle = self._needle
        if needle is not None and self._needle_from < upto:
            stop = min(self.hi, upto + len(needle) - 1)
            find_all(self.buf, needle, self._needle_from, stop, self._hits)
        self._needle_from = max(self._needle_from, upto)

    def _take_hits(self) -> tuple[bytes | None, list[int]]:
        hits, self._hits = self._hits, []
        return self._needle, hits

    def _error_needle(self, frag: Fragment) -> bytes:
        return _JSON_ERROR if self._json_lines(frag) else _TEXT_ERROR

    def _nuls(self, pos: int, stop: int) -> int:
        buf, lo, hi = self.buf, self.lo, self.hi
        pos = buf.find(b"\x00", pos, stop)
        while pos != -1:
            _, end = _line_bounds(buf, pos, lo, hi)
            self.warn(pos, "NUL bytes (binary junk, e.g. after a crash) skipped")
            if end >= stop:
                return end
            pos = buf.find(b"\x00", end, stop)
        return stop

    def _long_lines(self, p: int, stop: int) -> int:
        """Windows of LONG_LINE_WINDOW without a newline, looked at from [p, stop). They
        sit at multiples of their size, so a scan that starts mid-file (a resumed or a
        split one) looks at the same windows as one from the file's start."""
        buf, lo, hi = self.buf, self.lo, self.hi
        p -= p % LONG_LINE_WINDOW  # a window across `lo` holds the newline before it
        while p < stop and p + LONG_LINE_WINDOW <= hi:
            q = p + LONG_LINE_WINDOW
            if buf.find(b"\n", p, q) == -1:
                start = buf.rfind(b"\n", lo, p) + 1 or lo
                nl = buf.find(b"\n", q, hi)
                end = hi if nl == -1 else nl + 1
                self.warn(start, f"a line of {end - start} bytes (junk?) skipped")
                p = -(-end // LONG_LINE_WINDOW) * LONG_LINE_WINDOW
            else:
                p = q
        return p

    def _marker_by_text(self, start: int, stop: int
                        ) -> tuple[int, tuple[int, int, Marker, str] | None]:
        """Where to look on from, and the next marker found by its text in [start, stop)."""
        buf, lo, hi = self.buf, self.lo, self.hi
        pos = buf.find(b"Space Mirror", start, stop)
        if pos == -1:
            return stop, None
        ls = buf.rfind(b"\n", max(lo, pos - 200), pos) + 1 or max(lo, pos - 200)
        nl = buf.find(b"\n", pos, hi)
        end = hi if nl == -1 else nl + 1
        if ls < start:
            return pos + 1, None
        ls = max(ls, buf.rfind(b"\x00", ls, pos) + 1)
        if buf[ls:ls + 1] == b"[":
            text = self.text(ls, end)
            marker = parse_marker(text)
            if marker is not None:
                return end, (ls, end, marker, text)
        return end, None

    # -- runs ----------------------------------------------------------------------------------
    def fragments(self) -> list[Fragment]:
        frags: list[Fragment] = []
        cur: Fragment | None = None
        cur_id: str | None = None
        region_floor = self.lo  # content before this belongs to an earlier, ended run
        # Before any marker: the rest of a run cut by rotation, in whatever format it is.
        self._needle = self._error_needle(Fragment(self.lo, self.hi))

        def done(frag: Fragment, hits: tuple[bytes | None, list[int]]) -> None:
            # Read now, while the marker pass still holds the run's last windows.
            self.fill(frag, hits)
            frags.append(frag)

        for start, end, marker, text in self.markers():
            hits = self._take_hits()  # in [the previous marker, this one)
            if marker.kind is MarkerKind.START:
                if cur is not None:
                    cur.region_end = start
                    done(cur, hits)
                cur = Fragment(region_start=start, region_end=self.hi, start_line=text,
                               start_marker=_marker_dict(marker))
                cur_id = marker.run_id
                self._needle = self._error_needle(cur)
                continue
            if cur is not None and cur_id and marker.run_id and cur_id != marker.run_id:
                # Another run's ending: the open run never wrote its own.
                cur.region_end = start
                done(cur, hits)
                hits = (None, [])
                cur = None
            if cur is None:
                cur = Fragment(region_start=region_floor, region_end=end)
            cur.end_line = text
            cur.end_marker = _marker_dict(marker)
            cur.region_end = end
            done(cur, hits)
            cur = None
            region_floor = end
        if cur is not None:
            cur.region_end = self.hi
            done(cur, self._take_hits())
        self._check_gaps(frags)
        return frags

    def _check_gaps(self, frags: list[Fragment]) -> None:
        # Lines outside any run (hook messages, stray output, junk) are not parsed, but
        # invalid UTF-8 there is still worth a warning when the stretch is small.
        pos = self.lo
        for frag in [*frags, Fragment(self.hi, self.hi)]:
            if 0 < frag.region_start - pos <= UTF8_CHECK_BYTES:
                raw = self.buf[pos:frag.region_start]
                if not raw.isascii():
                    self._report_bad_utf8(raw.replace(b"\x00", b"\n"), pos)
            pos = max(pos, frag.region_end)

    def fill(self, frag: Fragment, hits: tuple[bytes | None, list[int]] | None = None) -> None:
        """Read one run's region; `hits`: an error needle, and where the marker pass found
        it in the region."""
        size = frag.region_end - frag.region_start
        if size <= LINE_PARSE_BYTES:
            self._parse_lines(frag)
            return
        if size <= UTF8_CHECK_BYTES:
            raw = self.buf[frag.region_start:frag.region_end]
            if not raw.isascii():
                self._report_bad_utf8(raw, frag.region_start)
        self._scan_needles(frag, hits)

    def _parse_lines(self, frag: Fragment) -> None:
        raw = self.buf[frag.region_start:frag.region_end]
        if not raw.isascii():
            self._report_bad_utf8(raw, frag.region_start)
        parser = LineParser(attach=True)
        events: list[Event] = []
        tally = Tally()
        held = b""  # the raw line of the error record the parser holds back

        def take(out: list[Event]) -> None:
            for event in out:
                events.append(event)
                if isinstance(event, LogRecord) and event.is_error:
                    self._error(frag, tally, event, held)

        for line in raw.split(b"\n"):
            if len(line) > LONG_LINE_WINDOW or b"\x00" in line:
                continue  # reported by check_garbage
            was_holding = parser.holding
            out = parser.feed(decode(line))
            take(out)
            if parser.holding and (out or not was_holding):
                held = line
        take(parser.flush())
        # The markers are the assembler's business (their counters win there).
        state = apply_all(RunState(), [e for e in events if not isinstance(e, MarkerLine)])
        if state.stats is not None:
            frag.stats = _stats_dict(state.stats)
        if not _has_final_stats(frag):
            frag.counted = {"copied": state.copied, "deleted": state.deleted,
                            "renamed": state.renamed}
        frag.deletes_skipped = frag.deletes_skipped or state.deletes_skipped_for_io_errors
        _keep_tally(frag, tally)

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

    def _scan_needles(self, frag: Fragment,
                      found: tuple[bytes | None, list[int]] | None = None) -> None:
        buf, lo, hi = self.buf, frag.region_start, frag.region_end
        json_run = self._json_lines(frag)
        primary = _JSON_ERROR if json_run else _TEXT_ERROR
        hits: list[int] = []
        needles = [primary]
        if found is not None and found[0] == primary:  # the marker pass looked for it
            hits = [p for p in found[1] if lo <= p < hi]
            needles = []
        # Each needle costs a pass over the run's bytes. CRITICAL is what rclone logs just
        # before a fatal exit, so a run that completed cannot hold one: skip that pass.
        if frag.end_line is None or COMPLETE_TEXT not in frag.end_line:
            needles.extend([_JSON_CRITICAL] if json_run else [_TEXT_CRITICAL, _TEXT_FATAL])
        tally = Tally()
        # Window by window, every needle in each: a window is read once for all of them.
        for chunk in range(lo, hi, WINDOW):
            for needle in needles:
                find_all(buf, needle, chunk, min(hi, chunk + WINDOW + len(needle) - 1), hits)
        seen_line = -1
        for pos in sorted(hits):
            start, end = _line_bounds(buf, pos, lo, hi)
            if start == seen_line or end - start > LONG_LINE_WINDOW:
                continue
            seen_line = start
            line = buf[start:end].rstrip(b"\r\n")
            event = parse_line(self.text(start, end))
            if isinstance(event, LogRecord) and event.is_error:
                detail = self._continuation(end, hi)
                if detail:
                    event = replace(event, detail=detail)
                self._error(frag, tally, event, line)
        _keep_tally(frag, tally)
        stats = self._last_stats(lo, hi, json_run)
        if stats is not None:
            frag.stats = _stats_dict(stats)
        if not _has_final_stats(frag) and hi - lo <= OPEN_COUNT_BYTES:
            # Killed, aborted (rclone prints no stats on a signal) or still running: no final
            # stats, so count what the per-file lines say (the lines runstate.apply counts).
            per_file = _JSON_PER_FILE if json_run else _TEXT_PER_FILE
            frag.counted = dict(zip(per_file, count_matches(buf, list(per_file.values()), lo, hi),
                                    strict=True))

    def _continuation(self, pos: int, hi: int) -> str | None:
        """The lines after an error record that continue it (the `LineParser(attach=True)`
        rule: non-empty lines that are no record of their own), joined with newlines."""
        buf = self.buf
        lines: list[str] = []
        while pos < hi and len(lines) < MAX_DETAIL_LINES:
            nl = buf.find(b"\n", pos, hi)
            end = hi if nl == -1 else nl + 1
            raw = buf[pos:end]
            pos = end
            if len(raw) > LONG_LINE_WINDOW or b"\x00" in raw:
                continue  # skipped by the line-by-line parse as well
            text = decode(raw)
            if not text.strip() or type(continues(text)) is not Unparsed:
                break
            lines.append(text)
        return "\n".join(lines) if lines else None

    def _error(self, frag: Fragment, tally: Tally, rec: LogRecord, raw: bytes) -> None:
        frag.error_lines += 1
        text = rec.text
        if rec.msg.startswith(IO_ERRORS_SKIP_DELETES):
            frag.deletes_skipped = True
        cls = tally.add(rec.msg, example=text, detail=rec.detail, obj=rec.object)
        if not rec.object or cls is None or len(frag.failed_files) >= MAX_FAILED_FILES:
            return
        if raw[:1] == b"{":
            object_type = _json_field(raw, "objectType")
            if object_type is not None and not object_type.endswith(("Object", "Directory")):
                return
        if _NOT_A_FILE.search(rec.object):
            return
        name = real_name(rec.object)
        if name not in frag.failed_files:
            frag.failed_files.append(name)

    def _json_lines(self, frag: Fragment) -> bool:
        """Whether rclone wrote this run's lines as JSON (`--use-json-log`), from its first
        lines, whatever wrote the markers: an operator can add the flag to the legacy
        wrapper, and runners once logged text."""
        buf, pos, hi = self.buf, frag.region_start, frag.region_end
        if frag.start_line is not None:  # past the start marker's line
            nl = buf.find(b"\n", pos, hi)
            pos = hi if nl == -1 else nl + 1
        for _ in range(FORMAT_PROBE_LINES):
            if pos >= hi:
                break
            first = buf[pos:pos + 1]
            if first == b"{":
                return True
            if first.isdigit() or first == b"<":  # a dated text line, or journald's level
                return False
            nl = buf.find(b"\n", pos, min(hi, pos + LONG_LINE_WINDOW))
            if nl == -1:
                break
            pos = nl + 1
        return _is_runner_marker(frag)

    def _last_stats(self, lo: int, hi: int, json_run: bool) -> Stats | None:
        buf = self.buf
        # Each rfind runs back to `lo` when it finds nothing: look only for the run's format.
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
            # `2026/11/25 03:00:00 INFO  : ` or journald's `<6>INFO  : `
            header = line[:1].isdigit() or (line[:1] == b"<" and line[2:3] == b">")
            if header and line.rstrip().endswith(b":"):
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

    def part(self) -> ScanPart:
        frags = self.fragments()
        return ScanPart(frags, sorted(self.warnings, key=_place), self._suppressed)


def _keep_tally(frag: Fragment, tally: Tally) -> None:
    frag.classes = [[c.cls, c.count, c.example] for c in tally.result()]
    causes = tally.causes()
    frag.causes = causes if len(causes) <= MAX_CAUSES else []
    frag.attempts = tally.attempts


def _marker_dict(marker: Marker) -> dict[str, Any]:
    return {"kind": str(marker.kind), "time": iso(marker.time),
            "exit": marker.exit_code, "fields": marker.fields}



def _has_final_stats(frag: Fragment) -> bool:
    """rclone prints final stats when it ends on its own, not on a signal: without them the
    per-file lines are counted instead."""
    if frag.stats is None or frag.end_marker is None:
        return False
    kind, code = str(frag.end_marker.get("kind")), frag.end_marker.get("exit")
    try:
        outcome = outcome_for(MarkerKind(kind), code if isinstance(code, int) else None)
    except ValueError:
        return False
    return outcome in (Outcome.SUCCESS, Outcome.FAILED)


def _is_runner_marker(frag: Fragment) -> bool:
    line = frag.start_line or frag.end_line or ""
    return " run=" in line


def _json_field(raw: bytes, name: str) -> str | None:
    try:
        obj = loads_bounded(raw)
    except ValueError:
        return None
    value = obj.get(name) if isinstance(obj, dict) else None
    return value if isinstance(value, str) else None


def _stats_dict(s: Stats) -> dict[str, float]:
    return {"bytes": s.bytes, "transfers": s.transfers, "checks": s.checks,
            "deletes": s.deletes, "renames": s.renames, "errors": s.errors,
            "elapsed": s.elapsed}


@dataclass(slots=True)
class ScanPart:
    """A stretch of a file, scanned: a whole file is one part, or several joined in order
    (a large file scanned on several cores, tui/core/history/split.py)."""

    fragments: list[Fragment]
    warnings: list[HistoryWarning]  # the first MAX_WARNINGS_PER_FILE by place, in order
    dropped: int  # the ones past them, counted

    def plain(self) -> tuple[Any, ...]:
        """Built-in types only (for marshal, across a pipe); `from_plain` is the inverse."""
        return ([f.to_json() for f in self.fragments],
                [w.row() for w in self.warnings], self.dropped)

    @classmethod
    def from_plain(cls, data: tuple[Any, ...]) -> ScanPart:
        frags, warnings, dropped = data
        return cls([Fragment.from_json(f) for f in frags],
                    [HistoryWarning.from_row(w) for w in warnings], int(dropped))


def scan_part(name: str, buf: Buf, lo: int, hi: int) -> ScanPart:
    """Scan [lo, hi) of one file's bytes. A part that starts at a start marker's line (or
    at the file's start) and ends where the next part starts is scanned exactly as the same
    bytes are within a whole-file scan."""
    return _FileScanner(name, buf, lo, hi).part()


def join_parts(name: str, parts: list[ScanPart], size: int) -> FileScan:
    """The parts of [lo, size), in order, as the one scan of the whole stretch: the same
    fragments, and the same warnings (each part kept its first by place: enough for the
    first of the whole)."""
    frags = [f for p in parts for f in p.fragments]
    ordered = sorted((w for p in parts for w in p.warnings), key=_place)
    found = sum(len(p.warnings) + p.dropped for p in parts)
    warnings = ordered[:MAX_WARNINGS_PER_FILE]
    if found > len(warnings):
        warnings.append(HistoryWarning(name, None,
                                       f"{found - len(warnings)} more warnings not shown"))
    return FileScan(frags, warnings, size)


def _place(w: HistoryWarning) -> tuple[int, str]:
    return (-1 if w.offset is None else w.offset, w.message)


def scan_bytes(name: str, buf: Buf, lo: int = 0,
               hi: int | None = None) -> FileScan:
    """Scan one file's bytes [lo, hi) into run fragments (no cache). Never raises on content."""
    hi = len(buf) if hi is None else hi
    return join_parts(name, [scan_part(name, buf, lo, hi)], hi)


def is_start_line(buf: Buf, at: int, hi: int) -> bool:
    """Whether a line starts at `at` (after a newline) that the scanner takes for a start
    marker: `[` opening it, the marker's text in its first 80 bytes, parse_marker's word."""
    if at <= 0 or buf[at - 1:at + 1] != b"\n[":
        return False
    head = buf[at:at + 80]
    if START_NEEDLE not in head:
        return False
    nl = buf.find(b"\n", at, min(hi, at + MAX_MARKER_LINE))
    if nl == -1:
        return False
    marker = parse_marker(decode(buf[at:nl + 1]))
    return marker is not None and marker.kind is MarkerKind.START


def scan_run_body(name: str, buf: Buf, lo: int, hi: int) -> Fragment:
    """[lo, hi) as the body of one run (no markers looked for): its error lines, classes,
    per-file line counts and last stats block, by the same needles as a whole scan."""
    frag = Fragment(region_start=lo, region_end=hi)
    _FileScanner(name, buf, lo, hi).fill(frag)
    return frag
