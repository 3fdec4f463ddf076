"""The history screen: one row per past run, newest first, with bytes and duration bars.

The scan runs in a thread worker, so the first paint never waits for a gigabyte of logs.
Enter opens the run's detail (RunDetailScreen).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Sparkline, Static

from tui.app import keys as K
from tui.app.keys import Key
from tui.app.screens.base import DetailsTable, KeyedScreen
from tui.app.styles import css_path
from tui.config import Job
from tui.core.history import History, Run, persistent_at
from tui.core.runstate import Outcome
from tui.core.text import printable
from tui.core.units import format_bytes, format_duration
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


# Short headers: at 80 columns every column, Errors and Notes too, must be on screen.
COLUMNS = ("Outcome", "Started", "Took", "Bytes", "Files", "Del", "Ren", "Err", "Notes")


def default_loader(job: Job, find_running: FindRunning | None = None) -> HistoryLoader:
    """Scan the job's logs; the open run at the end is `running` if the lock says so."""
    return lambda: load_history(job, find_running)


def _num(v: int | None) -> str:
    return "-" if v is None else str(v)


def run_cells(run: Run) -> tuple[Text | str, ...]:
    notes = []
    if run.deletes_skipped:
        notes.append("deletes skipped!")
    if run.error_classes:
        notes.append(", ".join(f"{c.cls} ×{c.count}" for c in run.error_classes[:2]))
    if run.dry_run:
        notes.append("dry run")
    return (
        Text(str(run.outcome), style=OUTCOME_STYLE.get(run.outcome, "")),
        run.started.strftime("%Y-%m-%d %H:%M") if run.started else "?",
        Text(format_duration(run.duration_s), justify="right"),
        Text(format_bytes(run.bytes) if run.bytes is not None else "-", justify="right"),
        Text(_num(run.transfers), justify="right"),
        Text(_num(run.deletes), justify="right"),
        Text(_num(run.renames), justify="right"),
        Text(_num(run.errors), justify="right",
             style="bold red" if run.errors else ""),
        Text("; ".join(notes), style="red" if run.deletes_skipped else ""),
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
                 find_running: FindRunning | None = None) -> None:
        """`loader` replaces the scan (tests); `find_running` is the dashboard's own probe,
        so that both screens agree on what is running."""
        super().__init__()
        self.job = job
        self._loader = loader or default_loader(job, find_running)
        self.history: History | None = None
        self._rows: list[Run] = []
        self.loaded = False  # the worker's answer is shown (tests wait for it)

    def compose(self) -> ComposeResult:
        yield Static(Content(f"History — job {self.job.name} · {self.job.log_file}"),
                     id="history-title")
        yield Static(Content("reading history…"), id="history-status")
        with Horizontal(id="history-bars"):
            yield Static(Content("bytes"), classes="bar-label")
            yield Sparkline([], id="bytes-bar")
            yield Static(Content("time"), classes="bar-label")
            yield Sparkline([], id="duration-bar")
        table = DetailsTable(id="history-table", cursor_type="row", zebra_stripes=True)
        yield table
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
        else:
            self.show_history(message.history)
        self.loaded = True

    def show_failure(self, text: str) -> None:
        self.query_one("#history-status", Static).update(Content(printable(text)))

    def show_history(self, history: History) -> None:
        self.history = history
        newest_first = list(reversed(history.runs))
        self._rows = newest_first
        table = self.query_one("#history-table", DataTable)
        rows = [run_cells(run) for run in newest_first]
        # Widths set from the cells at once: auto widths follow only on a later idle tick,
        # and a table drawn before it shows every cell cut to its header's width.
        table.clear(columns=True)
        for i, label in enumerate(COLUMNS):
            width = max([len(label), *(len(str(r[i])) for r in rows)])
            table.add_column(label, width=width)
        for run, cells in zip(newest_first, rows, strict=True):
            table.add_row(*cells, key=run.id)
        counts: dict[str, int] = {}
        for run in history.runs:
            counts[str(run.outcome)] = counts.get(str(run.outcome), 0) + 1
        summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        status = (f"{len(history.runs)} runs, newest first ({summary})" if history.runs
                  else "No runs in the log yet.")
        if history.warnings:
            status += f" · {len(history.warnings)} warning(s): {history.warnings[0]}"
        self.query_one("#history-status", Static).update(Content(status))
        recent = history.runs[-60:]
        self.query_one("#bytes-bar", Sparkline).data = [float(r.bytes or 0) for r in recent]
        self.query_one("#duration-bar", Sparkline).data = [
            float(r.duration_s or 0) for r in recent]
        table.focus()

    def selected_run(self) -> Run | None:
        table = self.query_one("#history-table", DataTable)
        if not self._rows or table.cursor_row < 0 or table.cursor_row >= len(self._rows):
            return None
        return self._rows[table.cursor_row]

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        run = self.selected_run()
        if run is None:
            return
        from tui.app.screens.run_detail import RunDetailScreen

        runs = self.history.runs if self.history is not None else [run]
        self.app.push_screen(RunDetailScreen(run, persistent=persistent_at(runs, run)))

    def action_open(self) -> None:
        self.query_one("#history-table", DataTable).action_select_cursor()

    def action_reload(self) -> None:
        self.query_one("#history-status", Static).update(Content("reading history…"))
        self.load()

    def scroll_target(self) -> Widget | None:
        return self.query_one("#history-table", DataTable)
