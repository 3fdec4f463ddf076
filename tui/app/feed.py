"""What the dashboard's follow worker does with the lines it reads.

Every line is parsed and folded into the RunState here, in the worker thread, so the UI
thread only ever receives the latest state and a bounded batch of display lines. No
Textual here: this is plain data, testable without a terminal.
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

from rich.cells import cell_len

from tui.core.logline import Event, LineParser, LogRecord, MarkerLine, StatsUpdate, Unparsed, decode
from tui.core.markers import MarkerKind
from tui.core.runstate import RunState, apply_all
from tui.core.text import printable

# Display kinds; the log view maps each to a style. The level word stays in the text, so the
# meaning survives NO_COLOR.
KIND_BY_LEVEL = {
    "DEBUG": "debug",
    "INFO": "info",
    "NOTICE": "notice",
    "WARNING": "warning",
    "ERROR": "error",
    "CRITICAL": "error",
    "ALERT": "error",
    "EMERGENCY": "error",
}
KIND_BY_MARKER = {
    MarkerKind.START: "start",
    MarkerKind.COMPLETE: "good",
    MarkerKind.FAILED: "bad",
    MarkerKind.ABORTED: "bad",
}



class LogEntry(NamedTuple):
    kind: str  # error | warning | notice | info | debug | start | good | bad | note | other
    text: str  # plain text, never markup
    per_file: bool  # about one file or folder (hidden by the "hide per-file lines" filter)
    width: int  # cells




def make_entry(kind: str, text: str, per_file: bool = False) -> LogEntry:
    text = printable(text)
    width = len(text) if text.isascii() else cell_len(text)
    return LogEntry(kind, text, per_file, width)


def _clock(stamp: str) -> str:
    # JSON `2026-11-25T14:25:21.48Z` and text `2026/11/25 14:25:21` both hold HH:MM:SS at 11.
    part = stamp[11:19]
    return part if len(part) == 8 else "--:--:--"


def entry_for(event: Event) -> LogEntry | None:
    """The display line for one event; stats updates are shown by the progress panel."""
    if isinstance(event, LogRecord):
        kind = KIND_BY_LEVEL.get(event.level, "info")
        return make_entry(kind, f"{_clock(event.time)} {event.level:<6} {event.text}",
                          event.object is not None and kind != "error")
    if isinstance(event, StatsUpdate):
        return None
    if isinstance(event, MarkerLine):
        m = event.marker
        when = m.time.strftime("%H:%M:%S") if m.time is not None else "--:--:--"
        _, sep, rest = event.text.partition("] ")
        return make_entry(KIND_BY_MARKER[m.kind], f"{when} ▌ {rest if sep else event.text}")
    if isinstance(event, Unparsed):
        return make_entry("other", event.text) if event.text.strip() else None
    return None  # pragma: no cover - Event is closed


class Feed:
    """Folds raw log lines into a RunState and queues display lines (bounded)."""

    def __init__(self, max_entries: int = 5000, state: RunState | None = None) -> None:
        self.parser = LineParser()
        self.state = state or RunState()
        self.started_by: str | None = None
        self.pending: deque[LogEntry] = deque(maxlen=max_entries)
        self.dirty = False
        self._last_note: str | None = None

    def feed(self, lines: list[bytes]) -> None:
        events: list[Event] = []
        parse = self.parser.feed
        for raw in lines:
            events.extend(parse(decode(raw)))
        for event in events:
            if type(event) is MarkerLine and event.marker.kind is MarkerKind.START:
                m = event.marker
                self.started_by = m.fields.get("by") or ("legacy" if m.legacy else None)
        # One fold for the whole batch (the reducer's fast path), and display lines only for
        # the events the bounded queue can keep: in a flood, older ones would fall off anyway.
        self.state = apply_all(self.state, events)
        pending = self.pending
        keep = pending.maxlen or len(events)
        for event in events[-keep:] if len(events) > keep else events:
            entry = entry_for(event)
            if entry is not None:
                pending.append(entry)
        if lines:
            self.dirty = True
            self._last_note = None  # a note after new lines is news again

    def note(self, text: str) -> None:
        """A message of our own (log rotated, waiting for the file); repeats are dropped."""
        if text == self._last_note:
            return
        self._last_note = text
        # `wait`: a note the log view drops once real lines follow. The follower is imported
        # by the worker that reads the log, after the first frame, and so here.
        from tui.core.follow import WAITING

        kind = "wait" if text == WAITING else "note"
        self.pending.append(make_entry(kind, f"-- {text} --"))
        self.dirty = True

    def take(self) -> list[LogEntry]:
        entries = list(self.pending)
        self.pending.clear()
        self.dirty = False
        return entries
