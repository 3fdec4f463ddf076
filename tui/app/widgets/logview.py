"""A bounded, level-coloured log view.

Textual's Log has no per-line styles and RichLog is slow and parses markup (a file named
`x[/bold].txt` would crash it). This is a small line-API widget over a bounded deque of
plain-text entries: appending is a deque append, rendering touches only the visible lines,
and text is never interpreted as markup.
"""

from __future__ import annotations

from collections import deque
from itertools import islice
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.content import Content
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.app.feed import LogEntry

MAX_LINES = 5000
ERROR_KINDS = frozenset({"error", "bad", "start", "good", "note", "wait"})


class LogView(ScrollView, can_focus=True):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "logview--error", "logview--warning", "logview--notice", "logview--info",
        "logview--debug", "logview--start", "logview--good", "logview--bad",
        "logview--note", "logview--wait", "logview--other", "logview--match", "logview--current",
    }
    DEFAULT_CSS = """
    LogView {
        background: $surface;
        overflow-y: auto;
        overflow-x: auto;
        /* Long lines scroll sideways with ← →; a horizontal bar would cost a row. */
        scrollbar-size-horizontal: 0;
        scrollbar-size-vertical: 1;
        & > .logview--error { color: $text-error; text-style: bold; }
        & > .logview--warning { color: $text-warning; }
        & > .logview--notice { color: $text-accent; }
        & > .logview--info { color: $foreground; }
        & > .logview--debug { color: $foreground-muted; }
        & > .logview--start { color: $text-primary; text-style: bold; }
        & > .logview--good { color: $text-success; text-style: bold; }
        & > .logview--bad { color: $text-error; text-style: bold; }
        & > .logview--note { color: $foreground-muted; text-style: italic; }
        & > .logview--wait { color: $foreground-muted; text-style: italic; }
        & > .logview--other { color: $foreground-muted; }
        & > .logview--match { text-style: reverse; }
        & > .logview--current { text-style: reverse bold underline; }
    }
    """

    follow: reactive[bool] = reactive(True, init=False)
    errors_only: reactive[bool] = reactive(False, init=False)
    hide_files: reactive[bool] = reactive(False, init=False)

    def __init__(self, max_lines: int = MAX_LINES, *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.max_lines = max_lines
        self._all: deque[LogEntry] = deque(maxlen=max_lines)
        self._view: deque[LogEntry] = deque(maxlen=max_lines)
        self._width = 0
        self._term = ""
        self._match: int | None = None  # index in the view of the current match
        self._styles: dict[str, Style] = {}

    # -- content ---------------------------------------------------------------------------
    @property
    def line_count(self) -> int:
        return len(self._view)

    def visible_text(self) -> list[str]:
        """The texts of all lines that pass the filters (for tests and searching)."""
        return [e.text for e in self._view]

    def append(self, entries: list[LogEntry]) -> None:
        if self._all and self._all[-1].kind == "wait" and any(e.kind != "wait" for e in entries):
            # "waiting for the log file to appear" was true until now: the file is here.
            self._all = deque((e for e in self._all if e.kind != "wait"), maxlen=self.max_lines)
            self._rebuild()
        view = self._view
        before = len(view)
        added = 0
        width = self._width
        passes = self._passes
        self._all.extend(entries)
        for entry in entries:
            if passes(entry):
                view.append(entry)
                added += 1
                if entry.width > width:
                    width = entry.width
        if not added:
            return
        dropped = max(0, before + added - self.max_lines)
        self._width = width
        if self._match is not None:
            self._match = self._match - dropped if self._match >= dropped else None
        self._resize()
        if self.follow:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
            # Again once the new virtual size is laid out: the immediate scroll is clamped to
            # the old end when this batch grew the view past its height.
            self.call_after_refresh(self.scroll_end, animate=False, x_axis=False)
        elif dropped:
            # The top lines fell off the buffer: keep the lines the operator is reading in place.
            self.scroll_to(y=max(0, self.scroll_y - dropped), animate=False, immediate=True)
        self.refresh()

    def clear(self) -> None:
        self._all.clear()
        self._view.clear()
        self._width = 0
        self._match = None
        self._resize()
        self.refresh()

    def _passes(self, entry: LogEntry) -> bool:
        if self.errors_only and entry.kind not in ERROR_KINDS:
            return False
        return not (self.hide_files and entry.per_file)

    def _rebuild(self) -> None:
        self._view = deque((e for e in self._all if self._passes(e)), maxlen=self.max_lines)
        self._width = max((e.width for e in self._view), default=0)
        self._match = None
        self._resize()
        if self.follow:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.refresh()

    def _resize(self) -> None:
        self.virtual_size = Size(self._width, len(self._view))

    def watch_errors_only(self) -> None:
        self._rebuild()
        self.retitle()

    def watch_hide_files(self) -> None:
        self._rebuild()
        self.retitle()

    def watch_follow(self, follow: bool) -> None:
        if follow:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.retitle()

    def on_mount(self) -> None:
        self.retitle()

    def on_resize(self) -> None:
        # The panels above grow and shrink (a failure's reason, the pre-flight panel): a
        # following view must still end on the newest line.
        if self.follow:
            self.call_after_refresh(self.scroll_end, animate=False, x_axis=False)

    def retitle(self) -> None:
        """The border says what the operator sees: following or paused, filters, search."""
        parts = ["log", "following" if self.follow else "paused (End follows)"]
        if self.errors_only:
            parts.append("errors only")
        if self.hide_files:
            parts.append("per-file hidden")
        if self._term:
            parts.append(f"/{self._term}: {self.match_position()}")
        self.border_title = Content(" · ".join(parts))  # the term is typed text, not markup

    # -- search ----------------------------------------------------------------------------
    @property
    def search_term(self) -> str:
        return self._term

    def search(self, term: str) -> bool:
        """Highlight `term` and jump to its first match below the top line (wrapping)."""
        self._term = term.lower()
        self._match = None
        if not self._term:
            self.refresh()
            return False
        return self.next_match(start=int(self.scroll_y))

    def next_match(self, backwards: bool = False, start: int | None = None) -> bool:
        if not self._term or not self._view:
            return False
        n = len(self._view)
        if start is None:
            origin = self._match if self._match is not None else int(self.scroll_y)
            start = origin - 1 if backwards else origin + 1
        step = -1 if backwards else 1
        term = self._term
        for k in range(n):
            i = (start + step * k) % n
            if term in self._view[i].text.lower():
                self._match = i
                self.follow = False
                self.scroll_to(y=max(0, i - self.scrollable_content_region.height // 2),
                               animate=False, immediate=True)
                self.refresh()
                return True
        self._match = None
        self.refresh()
        return False

    def match_position(self) -> str:
        """`3/467` on a match (as less and vim show it), else `467 found`."""
        count = self.match_count()
        if self._match is None or not count:
            return f"{count} found"
        term = self._term
        nth = sum(1 for e in islice(self._view, self._match + 1) if term in e.text.lower())
        return f"{nth}/{count}"

    def clear_search_and_filters(self) -> bool:
        """Esc: drop the search first, then the filters. True when something was cleared."""
        if self._term:
            self.search("")
            self.retitle()
            return True
        if self.errors_only or self.hide_files:
            self.errors_only = False
            self.hide_files = False
            return True
        return False

    def match_count(self) -> int:
        if not self._term:
            return 0
        term = self._term
        return sum(1 for e in self._view if term in e.text.lower())

    @property
    def current_match(self) -> int | None:
        return self._match

    # -- scrolling: reading back stops following, End resumes --------------------------------
    def action_scroll_up(self) -> None:
        self.follow = False
        super().action_scroll_up()

    def action_page_up(self) -> None:
        self.follow = False
        super().action_page_up()

    def action_scroll_home(self) -> None:
        self.follow = False
        super().action_scroll_home()

    def action_scroll_end(self) -> None:
        self.follow = True

    def _on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self.follow = False

    # -- rendering -------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()

    def _style(self, kind: str) -> Style:
        style = self._styles.get(kind)
        if style is None:
            style = self.get_component_rich_style(f"logview--{kind}", partial=True)
            self._styles[kind] = style
        return style

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self.rich_style
        index = scroll_y + y
        if index >= len(self._view):
            return Strip.blank(width, base)
        entry = self._view[index]
        style = base + self._style(entry.kind)
        segments = self._segments(entry.text, style, index)
        strip = Strip(segments, entry.width if len(segments) == 1 else None)
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _segments(self, text: str, style: Style, index: int) -> list[Segment]:
        term = self._term
        if not term:
            return [Segment(text, style)]
        lower = text.lower()
        at = lower.find(term)
        if at < 0 or len(lower) != len(text):  # a few characters change length when lowered
            return [Segment(text, style)]
        kind = "current" if index == self._match else "match"
        hit = style + self._style(kind)
        out: list[Segment] = []
        pos = 0
        while at >= 0:
            if at > pos:
                out.append(Segment(text[pos:at], style))
            out.append(Segment(text[at:at + len(term)], hit))
            pos = at + len(term)
            at = lower.find(term, pos)
        if pos < len(text):
            out.append(Segment(text[pos:], style))
        return out
