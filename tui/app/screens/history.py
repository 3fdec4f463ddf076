"""The history screen: one row per past run, newest first, with bytes and duration bars.

The scan runs in a thread worker, so the first paint never waits for a gigabyte of logs.
Enter opens the run's detail (RunDetailScreen). `f` lists the failed runs only, `/` searches
ids, reasons and failed files (n/N, `3/467`), `d` jumps to a date; Esc clears the search, then
the filter. What the list shows is tui.core.historyview's; this screen only draws it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import tzinfo
from typing import ClassVar, Literal

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Input, Sparkline, Static

from tui.app import keys as K
from tui.app.keys import Key
from tui.app.screens.base import KeyedScreen
from tui.app.screens.logscreen import SEARCH_ID, search_box
from tui.app.styles import css_path
from tui.app.widgets.tables import Cell, DetailsTable, right
from tui.config import Job
from tui.core.history import History, Run, persistent_at
from tui.core.historyview import HistoryView, outcome_width, trend_bar
from tui.core.rundetail import classes_note
from tui.core.runfilter import FilterError, outcome_cell
from tui.core.runstate import Outcome
from tui.core.text import printable
from tui.core.units import count_text, format_bytes, format_duration
from tui.ops.history import load_history
from tui.ops.processes import RunningSync

HistoryLoader = Callable[[], History]
FindRunning = Callable[[Job], RunningSync | None]

# Colour carries the outcome for most people; the word carries it for NO_COLOR users.
OUTCOME_STYLE = {
    Outcome.SUCCESS: "bold green",
    Outcome.FAILED: "bold red",
    Outcome.ABORTED: "bold yellow",
    Outcome.KILLED: "bold magenta",
    Outcome.INCOMPLETE: "yellow",
    Outcome.RUNNING: "bold cyan",
}


# Rows added before the list's first paint: more than any terminal shows at once.
FIRST_PAGE = 200

# Short headers: at 80 columns every column, Errors and Notes too, must be on screen.
COLUMNS = ("Outcome", "Started", "Took", "Bytes", "Files", "Del", "Ren", "Err", "Notes")


def default_loader(job: Job, find_running: FindRunning | None = None) -> HistoryLoader:
    """Scan the job's logs; the open run at the end is `running` if the lock says so."""
    return lambda: load_history(job, find_running)




def run_cells(run: Run, outcome_chars: int = 20) -> tuple[Cell, ...]:
    """One row; the Outcome cell carries a dry run at every width (`dry failed`)."""
    notes = []
    # The error class first: at 80 columns the Notes column is narrow, and what went wrong
    # matters more than its consequence (deletes skipped).
    if run.error_classes:
        notes.append(classes_note(run, 2))
    if run.deletes_skipped:
        notes.append("deletes skipped!")
    return (
        Cell(outcome_cell(run, outcome_chars), OUTCOME_STYLE.get(run.outcome, "")),
        Cell(run.started.strftime("%Y-%m-%d %H:%M") if run.started else "?"),
        right(format_duration(run.duration_s)),
        right(format_bytes(run.bytes) if run.bytes is not None else "-"),
        right(count_text(run.transfers)),
        right(count_text(run.deletes)),
        right(count_text(run.renames)),
        right(count_text(run.errors), "bold red" if run.errors else ""),
        Cell("; ".join(notes), "red" if run.deletes_skipped else ""),
    )


class HistoryLoaded(Message):
    """The history worker read the logs (history) or could not (problem)."""

    def __init__(self, history: History | None, problem: str = "") -> None:
        super().__init__()
        self.history = history
        self.problem = problem


KEYS: tuple[Key, ...] = (
    # Enter itself is the table's binding (DetailsTable): the footer shows that one.
    Key("enter", "open", "Details", "the selected run's detail: summary, errors, its log",
        "⏎", footer=False, title="Run details"),
    Key("r", "reload", "Reload", "read the logs again", title="Reload history"),
    Key("f", "toggle_failures", "Failures", "failures only: just the failed runs (f again: all)",
        title="Failures only"),
    replace(K.SEARCH[0], help="search ids, reasons, failed files; Enter: first match",
            title="Search runs"),
    *K.SEARCH[1:],
    Key("d", "ask_date", "Date", "jump to the first run on or after a date (YYYY-MM-DD)",
        min_width=80, title="Go to a date"),
    K.BACK,
    Key("h", "back", "Back", "back to the dashboard (h again)", footer=False, palette=False),
    K.HELP,
    K.ESCAPE,
    K.QUIT,
    *K.NAVIGATION,
)


class HistoryScreen(KeyedScreen):
    CSS_PATH = css_path("history.tcss")
    KEYS = KEYS
    BINDINGS: ClassVar[list[BindingType]] = K.bindings(KEYS)

    def __init__(self, job: Job, loader: HistoryLoader | None = None, *,
                 find_running: FindRunning | None = None, zone: tzinfo | None = None) -> None:
        """`loader` replaces the scan (tests); `find_running` is the dashboard's own probe,
        so that both screens agree on what is running; `zone` reads a typed date (None:
        the host's, as the CLI's --since does)."""
        super().__init__()
        self.job = job
        self._loader = loader or default_loader(job, find_running)
        self._zone = zone
        self.history: History | None = None
        self.view = HistoryView([])
        self._asking: Literal["search", "date"] = "search"
        self._outcome_chars = 0
        self.loaded = False  # the worker's answer is shown, every row of it (tests wait for it)
        self._rest: Callable[[], None] | None = None  # the rows still to add, after a paint

    def compose(self) -> ComposeResult:
        yield Static(Content(f"History — job {self.job.name} · {self.job.log_file}"),
                     id="history-title")
        yield Static(Content("reading history…"), id="history-status")
        with Horizontal(id="history-bars"):
            for name, bar in (("bytes", "bytes-bar"), ("time", "duration-bar")):
                yield Static(Content(f"{name}\nlog"), classes="bar-label")
                yield Sparkline([], id=bar)
                yield Static(Content(""), id=f"{bar}-range", classes="bar-range")
        table = DetailsTable(id="history-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield search_box("search ids, reasons, failed files")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#history-table", DataTable)
        table.add_columns(*COLUMNS)
        self.load()

    @work(thread=True, exclusive=True, group="history", exit_on_error=False)
    def load(self) -> None:
        try:
            history = self._loader()
        except Exception as exc:  # a scan that fails must not take the dashboard with it
            self.post_message(HistoryLoaded(None, f"cannot read the history: {exc}"))
            return
        self.post_message(HistoryLoaded(history))

    @on(HistoryLoaded)
    def _loaded(self, message: HistoryLoaded) -> None:
        if message.history is None:
            self.show_failure(message.problem)
            self.loaded = True
        else:
            self.show_history(message.history)  # `loaded` once its last row is in

    def show_failure(self, text: str) -> None:
        self.query_one("#history-status", Static).update(Content(printable(text)))

    def show_history(self, history: History) -> None:
        self.history = history
        view = HistoryView(history.runs)  # a reload keeps the filter and the search
        if self.view.failures_only:
            view.toggle_failures()
        view.search(self.view.matches.term)
        self.view = view
        self._fill_table()
        recent = history.runs[-60:]
        for bar_id, values, fmt in (
                ("bytes-bar", [float(r.bytes or 0) for r in recent], format_bytes),
                ("duration-bar", [float(r.duration_s or 0) for r in recent], format_duration)):
            bar = trend_bar(values, fmt)
            self.query_one(f"#{bar_id}", Sparkline).data = bar.data
            self.query_one(f"#{bar_id}-range", Static).update(
                Content(f"{bar.top}\n{bar.bottom}" if bar.data else ""))
        self.query_one("#history-table", DataTable).focus()

    def _fill_table(self, keep: str | None = None) -> None:
        """The table from the view's rows; the cursor stays on run `keep` when it is listed.

        The first FIRST_PAGE rows (the newest) are added at once and painted; the rest
        after that paint. Textual works on every row added before the next frame, so years
        of nightly runs would otherwise hold the list back in proportion to their number.
        Anything that reads or moves past the first page completes the fill first
        (`_complete`)."""
        rows = self.view.rows
        self._outcome_chars = outcome_width(self.app.size.width)
        cells = [run_cells(run, self._outcome_chars) for run in rows]
        table = self.query_one("#history-table", DataTable)
        # Widths set from the cells at once: auto widths follow only on a later idle tick,
        # and a table drawn before it shows every cell cut to its header's width.
        table.clear(columns=True)
        for i, label in enumerate(COLUMNS):
            width = max([len(label), *(len(str(r[i])) for r in cells)])
            table.add_column(label, width=width)
        ids = [r.id for r in rows]
        at = ids.index(keep) if keep in ids else None

        def add(start: int, end: int) -> None:
            for run, row in zip(rows[start:end], cells[start:end], strict=True):
                table.add_row(*row, key=run.id)  # Cells, sized above: never measured
            if at is not None and start <= at < end:
                table.move_cursor(row=at, animate=False)

        def rest() -> None:
            if self._rest is not rest:
                return  # this fill is complete, or a newer one replaced it
            self._rest = None
            add(page, len(rows))
            self._show_status()
            self.loaded = True

        # A cursor kept past the first page (a filter toggled deep in the list) is not
        # moved twice: that fill is one step.
        page = FIRST_PAGE if at is None or at < FIRST_PAGE else len(rows)
        add(0, page)
        self._show_status()
        if len(rows) > page:
            self._rest = rest
            self.call_after_refresh(rest)
        else:
            self._rest = None
            self.loaded = True

    def _complete(self) -> None:
        """Add the rows not yet in the table now: before a jump, a search step, an open."""
        if self._rest is not None:
            self._rest()

    def _show_status(self) -> None:
        table = self.query_one("#history-table", DataTable)
        warnings = self.history.warnings if self.history is not None else []
        self.query_one("#history-status", Static).update(
            Content(printable(self.view.status(table.cursor_row, warnings))))

    def on_resize(self) -> None:
        if self.history is not None and outcome_width(self.app.size.width) != self._outcome_chars:
            run = self.selected_run()
            self._fill_table(run.id if run else None)

    @on(DataTable.RowHighlighted, "#history-table")
    def _moved(self) -> None:
        if self.view.matches.term:
            self._show_status()  # `3/5` becomes `5 found` off a match, and back

    # -- filter, search, date ----------------------------------------------------------------
    def action_toggle_failures(self) -> None:
        run = self.selected_run()
        self.view.toggle_failures()
        self._fill_table(run.id if run else None)

    def action_search(self, _how: str = "") -> None:
        self._ask("search", "search ids, reasons, failed files", self.view.matches.term)

    def action_ask_date(self, _how: str = "") -> None:
        self._ask("date", "jump to the first run on or after YYYY-MM-DD", "")

    def _ask(self, what: Literal["search", "date"], placeholder: str, value: str) -> None:
        self._asking = what
        box = self.query_one(f"#{SEARCH_ID}", Input)
        box.placeholder = placeholder
        box.value = value
        box.display = True
        box.focus()

    @on(Input.Submitted, f"#{SEARCH_ID}")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._close_box()
        if self._asking == "date":
            self._goto_date(event.value)
            return
        self.view.search(event.value)
        if event.value.strip() and not self.view.matches.rows:
            self.notify(f"not found: {printable(event.value)}", severity="warning", timeout=3,
                        markup=False)
        self._goto_match(include=True)

    def _goto_date(self, text: str) -> None:
        self._complete()
        try:
            row = self.view.date_row(text, self._zone)
        except FilterError as exc:
            self.notify(printable(str(exc)), severity="warning", timeout=4, markup=False)
            return
        self.query_one("#history-table", DataTable).move_cursor(row=row, animate=False)
        self._show_status()

    def _goto_match(self, backwards: bool = False, include: bool = False) -> None:
        self._complete()
        table = self.query_one("#history-table", DataTable)
        row = self.view.matches.step(table.cursor_row, backwards, include=include)
        if row is not None:
            table.move_cursor(row=row, animate=False)
        self._show_status()

    def action_next_match(self) -> None:
        self._goto_match()

    def action_previous_match(self) -> None:
        self._goto_match(backwards=True)

    def _close_box(self) -> None:
        self.query_one(f"#{SEARCH_ID}", Input).display = False
        self.query_one("#history-table", DataTable).focus()

    def clear_one(self) -> bool:
        """Esc: the open box, then the search, then the failures filter."""
        if self.query_one(f"#{SEARCH_ID}", Input).display:
            self._close_box()
            return True
        if not self.view.clear_one():
            return False
        run = self.selected_run()
        self._fill_table(run.id if run else None)
        return True

    def selected_run(self) -> Run | None:
        self._complete()
        table = self.query_one("#history-table", DataTable)
        rows = self.view.rows
        if not rows or table.cursor_row < 0 or table.cursor_row >= len(rows):
            return None
        return rows[table.cursor_row]

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        run = self.selected_run()
        if run is None:
            return
        from tui.app.screens.run_detail import RunDetailScreen

        runs = self.history.runs if self.history is not None else [run]
        self.app.push_screen(RunDetailScreen(run, persistent=persistent_at(runs, run),
                                             job=self.job))

    def action_open(self) -> None:
        self.query_one("#history-table", DataTable).action_select_cursor()

    def action_reload(self) -> None:
        self.query_one("#history-status", Static).update(Content("reading history…"))
        self.load()

    def scroll_target(self) -> Widget | None:
        self._complete()  # G, PageDown …: to the real end, not the first page's
        return self.query_one("#history-table", DataTable)
