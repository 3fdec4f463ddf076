"""Every host's jobs on one screen: FleetScreen(read), from Prometheus (`space-mirror fleet`).

One row per host × job, sorted by need (stalled, failed, stale first), coloured as History
colours outcomes; the title counts each state, names hosts that stopped answering and says
when the data is older than two scrapes. A worker reads the fleet every `interval` (the
scrape interval, unless one is given) and posts it; the table is rebuilt from it. `/`
filters, the movement keys page, Enter shows the row's series and the command that opens
its dashboard (on this host: the dashboard itself).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Input, Static

from tui.app import keys as K
from tui.app.keys import Key
from tui.app.screens.base import KeyedScreen
from tui.app.screens.history import OUTCOME_STYLE
from tui.app.widgets.tables import Cell, RowTable, right
from tui.core import fleet
from tui.core.runstate import Outcome
from tui.core.text import printable
from tui.core.units import age_text

FILTER_ID = "fleet-filter"

KEYS: tuple[Key, ...] = (
    Key("enter", "open", "Open", "the row's series, and the command that opens its dashboard",
        "⏎", footer=False, title="Open row"),
    Key("slash", "filter", "Filter", "show only rows whose host, job or state hold every "
        "word; Esc clears", "/", title="Filter rows"),
    Key("r", "refresh", "Refresh", "read Prometheus now", "r"),
    K.QUIT_TOP,
    K.HELP,
    K.ESCAPE,
    K.QUIT,
    *K.NAVIGATION,
)

# History's colours: ok as a success, failed as failed, running as running, stalled as a
# killed run, stale as an aborted one, the rest as an incomplete one.
STATE_STYLE = {
    fleet.OK: OUTCOME_STYLE[Outcome.SUCCESS],
    fleet.FAILED: OUTCOME_STYLE[Outcome.FAILED],
    fleet.RUNNING: OUTCOME_STYLE[Outcome.RUNNING],
    fleet.STALLED: OUTCOME_STYLE[Outcome.KILLED],
    fleet.STALE: OUTCOME_STYLE[Outcome.ABORTED],
    fleet.UNKNOWN: OUTCOME_STYLE[Outcome.INCOMPLETE],
    fleet.WARNING: OUTCOME_STYLE[Outcome.INCOMPLETE],
}


class FleetRead(Message):
    def __init__(self, data: fleet.Fleet, took: float) -> None:
        super().__init__()
        self.fleet = data
        self.took = took

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, (FleetRead, FleetFailed))


class FleetFailed(Message):
    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, (FleetRead, FleetFailed))


def fleet_row_cells(r: fleet.Row) -> tuple[Cell, ...]:
    age = r.last_good_age
    persistent = r.facts.persistent_files
    return (Cell(printable(r.host)), Cell(printable(r.job)),
            Cell(r.state, STATE_STYLE[r.state]), Cell(printable(r.detail())),
            right(age_text(age) if age is not None else "—"),
            right("—" if persistent is None else str(persistent)),
            right(str(r.facts.deletes_skipped_runs)))


class FleetScreen(KeyedScreen):
    KEYS = KEYS
    BINDINGS: ClassVar[list[BindingType]] = K.bindings(KEYS)
    DEFAULT_CSS = """
    FleetScreen #fleet-title { height: auto; max-height: 2; background: $primary;
                               text-style: bold; padding: 0 1; }
    FleetScreen #fleet-table { height: 1fr; }
    FleetScreen #fleet-filter { dock: bottom; display: none; }
    """

    def __init__(self, read: Callable[[], fleet.Fleet], interval: float | None, source: str,
                 local_hosts: frozenset[str] = frozenset(),
                 open_local: Callable[[fleet.Row], None] | None = None) -> None:
        super().__init__()
        self._read = read
        self.interval = interval
        self.source = source
        self.local_hosts = local_hosts
        self._open_local = open_local
        self.stop = threading.Event()
        self.wake = threading.Event()
        self.fleet: fleet.Fleet | None = None
        self.shown: list[fleet.Row] = []
        self.words = ""
        self.problem: str | None = None
        self.refreshes = 0  # fleets shown (tests wait for them)

    def compose(self) -> ComposeResult:
        yield Static(Content(f"space-mirror fleet · reading {self.source}…"), id="fleet-title")
        yield RowTable(id="fleet-table", cursor_type="row")
        yield Input(placeholder="filter: host, job or state words; Enter applies, Esc clears",
                    id=FILTER_ID)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(RowTable)
        self._fit_columns([])
        table.focus()
        self._poll()

    def on_unmount(self) -> None:
        self.stop.set()
        self.wake.set()

    def scroll_target(self) -> Widget | None:
        return self.query_one(RowTable)

    @work(thread=True, group="fleet", exit_on_error=False)
    def _poll(self) -> None:
        wait = self.interval or 15.0
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                data = self._read()
            except Exception as exc:  # the screen stays, and says why it has no news
                self.post_message(FleetFailed(str(exc)))
            else:
                # No interval given: Prometheus's scrape interval, as the fleet was read.
                wait = self.interval or data.scrape_interval
                self.post_message(FleetRead(data, time.monotonic() - started))
            self.wake.wait(wait)
            self.wake.clear()

    @on(FleetRead)
    def _fleet_read(self, message: FleetRead) -> None:
        self.fleet = message.fleet
        self.problem = None
        self.show()
        self.refreshes += 1

    @on(FleetFailed)
    def _fleet_failed(self, message: FleetFailed) -> None:
        self.problem = message.reason
        self._title()

    def show(self) -> None:
        """Rebuild the table from the last fleet and the filter; the cursor stays on its
        row (host and job) when that row is still shown."""
        if self.fleet is None:
            return
        table = self.query_one(RowTable)
        keep = None
        if self.shown and 0 <= table.cursor_row < len(self.shown):
            at = self.shown[table.cursor_row]
            keep = (at.instance, at.job)
        rows = [r for r in self.fleet.rows if fleet.row_matches(r, self.words)] \
            if self.words else list(self.fleet.rows)
        self.shown = rows
        table.clear()
        self._fit_columns(self.fleet.rows)  # every row's names: a filter moves no column
        # Cells, not str: a label (any exporter writes one) is text, never Rich markup, and
        # the columns' widths are given (a thousand rows are never measured).
        table.add_rows(fleet_row_cells(r) for r in rows)
        if keep is not None:
            for i, r in enumerate(rows):
                if (r.instance, r.job) == keep:
                    table.move_cursor(row=i, animate=False)
                    break
        self._title()

    def _fit_columns(self, rows: list[fleet.Row]) -> None:
        """The columns for `rows` at the terminal's width (fleet.column_widths), set anew
        only when a width changed (the table is empty then: `show` refills it)."""
        widths = fleet.column_widths(rows, self.app.size.width)
        if self._widths() != widths:
            table = self.query_one(RowTable)
            table.clear(columns=True)
            for label, width in widths:
                table.add_column(label, width=width, key=label)

    def _widths(self) -> list[tuple[str, int]]:
        return [(str(c.label), c.width) for c in self.query_one(RowTable).columns.values()]

    def on_resize(self) -> None:
        # The rows are drawn again only when a column's width changes (a terminal being
        # dragged sends many resizes; a thousand rows are not rebuilt for each).
        if self.fleet is not None and \
                fleet.column_widths(self.fleet.rows, self.app.size.width) != self._widths():
            self.show()

    def _title(self) -> None:
        f = self.fleet
        lead = "space-mirror fleet"
        if f is None:
            text = f"{lead} · {self.problem or f'reading {self.source}…'}"
        else:
            shown = f" · filter {self.words!r}: {len(self.shown)} of {len(f.rows)}" \
                if self.words else ""
            text = f"{lead} · {fleet.header(f)}{shown}"
            if self.problem:
                text += f" · not refreshed: {self.problem}"
        self.query_one("#fleet-title", Static).update(Content(text))

    def action_refresh(self) -> None:
        self.wake.set()

    def action_filter(self) -> None:
        box = self.query_one(f"#{FILTER_ID}", Input)
        box.display = True
        box.value = self.words
        box.focus()

    @on(Input.Submitted, f"#{FILTER_ID}")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.words = event.value.strip()
        event.input.display = False
        self.query_one(RowTable).focus()
        self.show()

    def clear_one(self) -> bool:
        box = self.query_one(f"#{FILTER_ID}", Input)
        if box.display:
            box.display = False
            self.query_one(RowTable).focus()
            return True
        if self.words:
            self.words = ""
            self.show()
            return True
        return False

    def help_note(self) -> str:
        return ("States, most in need first: stalled (no progress for half the job's "
                "stall_timeout, at most a minute), failed, stale (last success older than "
                "warn_after), unknown, warning, running, ok: `space-mirror status` on the "
                "host judges the same way.")

    def action_open(self) -> None:
        self.query_one(RowTable).action_select_cursor()

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if not 0 <= event.cursor_row < len(self.shown):
            return
        row = self.shown[event.cursor_row]
        if row.host.lower() in self.local_hosts and self._open_local is not None:
            self._open_local(row)
            return
        self.app.push_screen(FleetRowScreen(row, self.fleet.now if self.fleet else time.time()))


ROW_KEYS: tuple[Key, ...] = (K.BACK, K.HELP, K.ESCAPE, K.QUIT, *K.NAVIGATION)


class FleetRowScreen(KeyedScreen):
    """One row in full: its verdict, every series Prometheus holds for it, and the command
    that opens its dashboard on its host."""

    KEYS = ROW_KEYS
    BINDINGS: ClassVar[list[BindingType]] = K.bindings(ROW_KEYS)
    DEFAULT_CSS = """
    FleetRowScreen #fleet-row-title { height: 1; background: $primary; text-style: bold;
                                      padding: 0 1; }
    FleetRowScreen #fleet-row-body { height: 1fr; padding: 0 1; }
    """

    def __init__(self, row: fleet.Row, now: float) -> None:
        super().__init__()
        self.row = row
        self.now = now  # when the fleet was read: what the series' ages count from

    def compose(self) -> ComposeResult:
        r = self.row
        yield Static(Content(f"{printable(r.job)} on {printable(r.instance)} · {r.state} "
                             f"({r.verdict.label})"), id="fleet-row-title")
        lines = [f"open its dashboard:  {printable(r.command())}", ""]
        lines += [f"• {printable(reason)}" for reason in r.verdict.reasons] or ["• healthy"]
        if r.version:
            lines.append(f"rclone {printable(r.version)}")
        if r.data_age is not None:
            lines.append(f"data scraped {age_text(r.data_age)} ago")
        lines.append("")
        lines += fleet.series_lines(r, self.now)
        with VerticalScroll(id="fleet-row-body"):
            yield Static(Content("\n".join(lines)))
        yield Footer(compact=True)

    def scroll_target(self) -> Widget | None:
        return self.query_one(VerticalScroll)
