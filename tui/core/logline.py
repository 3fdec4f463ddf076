"""One log line (bytes) → one typed event.

The log mixes three writers: our runner's markers, rclone's JSON lines (`--use-json-log`)
and rclone's text lines (legacy wrapper runs, other tools), whose stats block spans several
lines. `LineParser` is fed lines in order and keeps just enough state to join such a block;
`parse_line` handles everything that fits on one line. Garbage becomes `Unparsed`, never an
exception.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace

from tui.core.markers import Marker, parse_marker
from tui.core.stats import Stats

TYPE_CHECKING = False  # typing is 2 ms to import (issue 21)
if TYPE_CHECKING:
    from typing import Any

LEVELS = ("DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY")
ERROR_LEVELS = frozenset({"ERROR", "CRITICAL", "ALERT", "EMERGENCY"})

# Lines longer than this are cut before parsing: a 2 MB line must not cost 2 MB per event.
MAX_LINE_CHARS = 16_384
# At most this many continuation lines are attached to one error record.
MAX_DETAIL_LINES = 16


@dataclass(frozen=True, slots=True)
class LogRecord:
    """An ordinary rclone log line."""

    time: str
    level: str
    msg: str
    object: str | None = None
    size: int | None = None
    skipped: str | None = None
    # Lines that continued this one (the AWS SDK's `\tstatus code: 403, request id: …`,
    # go-multierror's `\t* …`, an HTML error page), joined with newlines.
    detail: str | None = None

    @property
    def is_error(self) -> bool:
        return self.level in ERROR_LEVELS

    @property
    def text(self) -> str:
        """The line as a person reads it: `object: message`."""
        return f"{self.object}: {self.msg}" if self.object else self.msg


@dataclass(frozen=True, slots=True)
class StatsUpdate:
    """A block of rclone's periodic stats, parsed."""

    time: str
    stats: Stats


@dataclass(frozen=True, slots=True)
class MarkerLine:
    """One of our start or end markers, parsed, with the line as written."""

    marker: Marker
    text: str


@dataclass(frozen=True, slots=True)
class Unparsed:
    """A line that is none of the above; kept so that nothing the log holds is hidden."""

    text: str


Event = LogRecord | StatsUpdate | MarkerLine | Unparsed

_LEVEL = r"(?P<level>DEBUG|INFO|NOTICE|WARNING|ERROR|CRITICAL|ALERT|EMERGENCY)\s*:\s?"
_TIME = r"(?P<time>\d{4}[/-]\d{2}[/-]\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?)"
_TEXT_LINE = re.compile(rf"^{_TIME}\s+{_LEVEL}(?P<rest>.*)$")
# journald and `--syslog`-style output: `<3>ERROR : x: Failed to copy: …`, no time.
_JOURNALD_LINE = re.compile(rf"^<[0-7]>{_LEVEL}(?P<rest>.*)$")
# Go's log.Fatalf writes no level: `2019/11/27 14:45:28 Failed to copy: object not found`.
_BARE_LINE = re.compile(
    r"^(?P<time>\d{4}[/-](?:0[1-9]|1[0-2])[/-](?:0[1-9]|[12]\d|3[01])"
    r" (?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?) (?P<rest>\S.*)$"
)


def decode(raw: bytes) -> str:
    """Bytes from the log → text; invalid UTF-8 (file names!) is replaced, never fatal."""
    if len(raw) > MAX_LINE_CHARS * 4:
        raw = raw[: MAX_LINE_CHARS * 4]
    text = raw.decode("utf-8", "replace").rstrip("\r\n")
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    if len(text) > MAX_LINE_CHARS:
        text = text[:MAX_LINE_CHARS] + "…"
    return text


def parse_line(line: str) -> Event:
    """Parse one complete line (no stats-block joining; see LineParser for that)."""
    if not line:
        return Unparsed(line)
    first = line[0]
    if first == "{":
        return _parse_json(line)
    if first == "[":
        marker = parse_marker(line)
        if marker is not None:
            return MarkerLine(marker, line)
        return Unparsed(line)
    m = _TEXT_LINE.match(line)
    if m is not None:
        return _text_record(m["time"], m["level"], m["rest"])
    return _unusual_text(line)


def _unusual_text(line: str) -> Event:
    if line[0] == "<":
        m = _JOURNALD_LINE.match(line)
        if m is not None:
            return _text_record("", m["level"], m["rest"])
        return Unparsed(line)
    m = _BARE_LINE.match(line)
    if m is not None:
        return _text_record(m["time"], "CRITICAL", m["rest"])
    return Unparsed(line)


# rclone's JSON lines nest two or three deep. A line nested deeper is junk (or an attack on
# the reader): json would recurse into it until RecursionError.
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_DEEP_JSON = re.compile(r'(?:[\[{]\s*(?:""\s*:\s*)?){' + str(MAX_JSON_DEPTH) + "}")


def loads_bounded(text: str | bytes) -> Any:
    """json.loads of one log line, refusing (ValueError) one nested over MAX_JSON_DEPTH."""
    probe = text if isinstance(text, str) else text.decode("utf-8", "replace")
    if probe.count("[") + probe.count("{") >= MAX_JSON_DEPTH \
            and _DEEP_JSON.search(_JSON_STRING.sub('""', probe)):
        raise ValueError(f"JSON nested over {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _parse_json(line: str) -> Event:
    try:
        obj: Any = loads_bounded(line)
    except ValueError:
        return Unparsed(line)
    if not isinstance(obj, dict):
        return Unparsed(line)
    time = str(obj.get("time", ""))
    stats = obj.get("stats")
    if isinstance(stats, dict):
        return StatsUpdate(time, Stats.from_json(stats))
    level = str(obj.get("level", "info")).upper()
    if level == "WARNING":
        # rclone has no WARNING level: before 1.66 its JSON log (logrus) wrote NOTICE as
        # "warning" (Debian 12's 1.60.1 does). A NOTICE it is, in every version.
        level = "NOTICE"
    size = obj.get("size")
    obj_name = obj.get("object")
    skipped = obj.get("skipped")
    return LogRecord(
        time=time,
        level=level,
        msg=str(obj.get("msg", "")),
        object=str(obj_name) if obj_name is not None else None,
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
        skipped=str(skipped) if skipped is not None else None,
    )


# rclone's messages about one file. A file name may itself hold ": "
# (`Meeting: notes.txt: Copied (new)`), so the object ends before the first of these. The
# messages the counters depend on are matched whole, to the end of the line, so that even a
# name like `x: Copied (new).txt` cannot pass for one.
_FILE_MESSAGE = re.compile(
    r"(?:Copied \([^()]*\)|Deleted|Renamed from \".*\"|Moved \([^()]*\)(?: to: .*)?)$"
    r"|Updated |Skipped |Failed to |Couldn't |Not deleting|Not copying|Set directory"
    r"|Removing directory|Made directory"
)


# Messages that never follow an object: rclone's summaries and fatal errors. Without this,
# `Failed to copy: object not found` would name a file called "Failed to copy".
_NO_OBJECT = re.compile(
    r"Failed to \w+(?: with \d+ errors)?: |Failed to create file system |Attempt \d+/\d+ "
    r"|Fatal error: |There was nothing to transfer"
)
# rclone writes a file as `name.<8 characters>.partial` and renames it when it is complete.
_PARTIAL = re.compile(r"\.[0-9A-Za-z]{8}\.partial$|\.partial$")


def real_name(name: str) -> str:
    """The file a name stands for: a `.partial` temporary maps to the file it becomes."""
    return _PARTIAL.sub("", name) if name.endswith(".partial") else name


def _text_record(time: str, level: str, rest: str) -> LogRecord:
    # Text lines are `object: message` or just `message`. Without a known message after any
    # ": ", the first ": " separates them.
    first = rest.find(": ")
    if first < 0 or _NO_OBJECT.match(rest):
        return LogRecord(time=time, level=level, msg=rest)
    at = first
    while at >= 0:
        if _FILE_MESSAGE.match(rest, at + 2):
            return LogRecord(time=time, level=level, msg=rest[at + 2:], object=rest[:at])
        at = rest.find(": ", at + 2)
    return LogRecord(time=time, level=level, msg=rest[first + 2:], object=rest[:first])


def continues(line: str) -> Event | None:
    """`line` parsed on its own; an `Unparsed` result after an error record (and a non-empty
    line) is a continuation of that record. None for a stats block header."""
    if line and line[0].isdigit():
        m = _TEXT_LINE.match(line)
        if m is not None and m["rest"].strip() == "":
            return None
    return parse_line(line)


class LineParser:
    """Stateful parser that joins text-format stats blocks, and (with `attach=True`) the
    continuation lines of an error record.

    A text stats block starts with a line ending in `INFO  : ` (nothing after the colon),
    followed by indented lines up to a blank line. While inside one, lines are buffered
    and a single StatsUpdate is emitted at its end.

    With `attach`, an error record is held back until the next line shows whether it
    continues: the lines after it that are no record of their own (the AWS SDK's
    `\tstatus code: …`, go-multierror's `\t* …`) become its `detail`. The live view does not
    attach (it shows every line as it comes); the history does, and flushes at the end.
    """

    __slots__ = ("_attach", "_block", "_block_time", "_detail", "_held")

    def __init__(self, attach: bool = False) -> None:
        self._attach = attach
        self._block: list[str] | None = None
        self._block_time = ""
        self._held: LogRecord | None = None
        self._detail: list[str] = []

    def feed(self, line: str) -> list[Event]:
        if self._held is not None:
            if line.strip() and len(self._detail) < MAX_DETAIL_LINES:
                event = continues(line)
                if type(event) is Unparsed and self._block is None:
                    self._detail.append(line)
                    return []
            events = self._release()
            events.extend(self.feed(line))
            return events
        events = self._feed(line)
        if self._attach and len(events) == 1:
            rec = events[0]
            if type(rec) is LogRecord and rec.level in ERROR_LEVELS:
                self._held = rec
                return []
        return events

    @property
    def holding(self) -> bool:
        """True while an error record waits for its continuation lines."""
        return self._held is not None

    def _release(self) -> list[Event]:
        held, self._held = self._held, None
        if held is None:
            return []
        if self._detail:
            held = replace(held, detail="\n".join(self._detail))
            self._detail = []
        return [held]

    def _feed(self, line: str) -> list[Event]:
        if self._block is not None:
            if line.strip() == "":
                return self._close_block()
            if _TEXT_LINE.match(line) or line.startswith(("{", "[")) \
                    or _JOURNALD_LINE.match(line):
                # The block ended without its blank line (a truncated or interleaved log).
                events = self._close_block()
                events.extend(self._feed(line))
                return events
            if len(self._block) < 64:
                self._block.append(line)
            return []
        if line and line[0].isdigit():
            m = _TEXT_LINE.match(line)
            if m is not None:
                rest = m["rest"]
                if rest.strip() == "":
                    self._block = []
                    self._block_time = m["time"]
                    return []
                return [_text_record(m["time"], m["level"], rest)]
        elif line[:1] == "<":  # journald's `<6>INFO  : ` heads a stats block too
            j = _JOURNALD_LINE.match(line)
            if j is not None and j["rest"].strip() == "":
                self._block = []
                self._block_time = ""
                return []
        return [parse_line(line)]

    def flush(self) -> list[Event]:
        """Emit whatever is pending (end of input): a held error record, a stats block."""
        events = self._release()
        if self._block is not None:
            events.extend(self._close_block())
        return events

    def _close_block(self) -> list[Event]:
        block, self._block = self._block or [], None
        stats = Stats.from_text("\n".join(block))
        if stats is None:
            return [Unparsed(line) for line in block]
        return [StatsUpdate(self._block_time, stats)]
