"""Every job of the host on one screen: OverviewScreen(jobs).

One row per job: its state (the same DashboardModel answer as its dashboard), the last
run's outcome and age, progress while running, the next timer run (systemd, when it is
there), and from the job's health model (tui/core/health.py, the one `status` reads) the
last good mirror's age and what needs the operator. Enter opens the job's DashboardScreen,
which follows its log at full rate; here a single worker looks at every job every few
seconds, reading only the bytes each log grew by.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Static

from tui.app import keys as K
from tui.app import workers
from tui.app.feed import Feed
from tui.app.keys import Key
from tui.app.screens.base import KeyedScreen
from tui.app.screens.history import OUTCOME_STYLE
from tui.app.widgets.status import Situation, state_word
from tui.app.widgets.tables import RowTable
from tui.config import Job
from tui.core import dashboard as dm
from tui.core.dashboard import DashboardModel
from tui.core.follow import LogFollower
from tui.core.health import NEEDS, URGENT, Facts, last_good_text, need, notes, previous_text
from tui.core.runstate import Outcome, Phase
from tui.core.text import printable
from tui.core.units import format_duration
from tui.ops import health as health_ops
from tui.ops.processes import RunningSync
from tui.ops.systemd import next_timer_runs, timer_unit_name

SURVEY_INTERVAL = 2.0  # seconds between two looks at every job
TIMERS_INTERVAL = 60.0  # systemctl is asked at most once a minute

KEYS: tuple[Key, ...] = (
    # Enter itself is the table's binding (RowTable): the footer shows that one.
    Key("enter", "open", "Open", "open the selected job's dashboard", "⏎", footer=False,
        title="Open job"),
    K.QUIT_TOP,
    K.HELP,
    K.QUIT,  # no Esc: the overview has no search or filter to clear, nothing below it
    *K.NAVIGATION,
)


HEALTH_INTERVAL = 30.0  # the health model is gathered again at most this often, or on change
LIVE_HEALTH_INTERVAL = 6.0  # … and this often while the job runs (a stall shows soon)


@dataclass(frozen=True)
class JobRow:
    name: str
    model: DashboardModel
    running: RunningSync | None = None
    health: Facts | None = None  # the job's health model (tui/core/health.py)


class JobsSurveyed(Message):
    """Every job's state, as the survey worker last saw it."""

    def __init__(self, rows: list[JobRow], timers: dict[str, datetime]) -> None:
        super().__init__()
        self.rows = rows
        self.timers = timers

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, JobsSurveyed)


class _Watch:
    """One job's log, read from its last run's start, then only what it grows by."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.follower = LogFollower(job.log_file, start=workers.follow_start(job.log_file),
                                    poll_interval=SURVEY_INTERVAL)
        self.feed = Feed(1)
        self.model = DashboardModel()
        self.health: Facts | None = None
        self._health_key: tuple[object, ...] | None = None
        self._health_at = float("-inf")

    def look(self, find_running: Callable[[Job], RunningSync | None], now: datetime) -> JobRow:
        while True:
            batch = self.follower.poll()
            if batch.lines:
                self.feed.feed(batch.lines)
            if len(batch.lines) < self.follower.max_batch_lines:
                break
        self.feed.take()
        try:
            running = find_running(self.job)
        except Exception:  # a probe that fails must not stop the survey
            running = None
        m = dm.reduce(self.model, dm.LogRead(self.feed.state, self.feed.started_by, True, now))
        self.model = dm.reduce(m, dm.Probed(running))
        # The health model reads the summary and the history: again when the run changes
        # (started, ended) or every HEALTH_INTERVAL, not at every look.
        key = (self.model.run.run_id, self.model.run.phase, running is not None)
        every = LIVE_HEALTH_INTERVAL if running is not None else HEALTH_INTERVAL
        if key != self._health_key or now.timestamp() - self._health_at >= every:
            try:
                self.health = health_ops.gather(self.job, now.timestamp(),
                                                lambda _job: running)
            except Exception:  # a job whose files cannot be read keeps its row
                self.health = None
            self._health_key, self._health_at = key, now.timestamp()
        return JobRow(self.job.name, self.model, running, self.health)


# History's colours: the word carries the meaning, the colour singles out the row.
NEED_STYLE = {"stalled": "bold red reverse", "failed": OUTCOME_STYLE[Outcome.FAILED],
              "stale": "bold yellow"}
STATE_STYLE = {"running": OUTCOME_STYLE[Outcome.RUNNING],
               "dry run": OUTCOME_STYLE[Outcome.RUNNING],
               "succeeded": OUTCOME_STYLE[Outcome.SUCCESS],
               "failed": OUTCOME_STYLE[Outcome.FAILED],
               "aborted": OUTCOME_STYLE[Outcome.ABORTED],
               "killed": OUTCOME_STYLE[Outcome.KILLED],
               "interrupted": OUTCOME_STYLE[Outcome.FAILED]}


def row_need(row: JobRow) -> str:
    """The health model's need (tui/core/health.py), or `ok` while it is unknown."""
    return need(row.health) if row.health is not None else "ok"


def row_cells(row: JobRow, now: datetime, next_run: datetime | None) -> tuple[str, ...]:
    m = row.model
    word, _ = state_word(Situation(state=m.run, started_by=m.started_by, running=row.running,
                                   aborting=m.aborting, interrupted=m.interrupted, now=now))
    word = word.removeprefix("IDLE · ").removeprefix("LAST RUN ")
    h = row.health
    if h is not None and h.stalled_now:
        word = "STALLED"
    st = m.run
    progress = ""
    if m.live and st.stats is not None and st.stats.percent is not None:
        progress = f"{st.stats.percent:.0f}%"
    age = "-"
    when = st.ended if st.phase is Phase.ENDED else st.started
    if when is not None:
        try:
            age = format_duration((now - when).total_seconds()) + " ago"
        except TypeError:
            age = "?"
    previous = previous_text(h) if h is not None and m.live else None
    if previous is not None:  # this run's start hides nothing: say how the last one ended
        age = f"prev {previous}"
    nxt = "-"
    if next_run is not None:
        try:
            nxt = "in " + format_duration((next_run - now).total_seconds())
        except TypeError:
            nxt = "?"
    good = last_good_text(h) if h is not None else "?"
    needs = "; ".join(notes(h)) if h is not None else ""
    return (printable(row.name), word.lower(), progress, good, printable(needs), age, nxt)


def styled_cells(row: JobRow, cells: tuple[str, ...]) -> tuple[str | Text, ...]:
    """The row's cells with History's colours: the state by its word, the name and the
    need by what the health model says the job needs."""
    style = NEED_STYLE.get(row_need(row), "")
    name, state, progress, good, needs, age, nxt = cells
    state_style = "bold red reverse" if state == "stalled" else \
        STATE_STYLE.get(state.removesuffix(" (dry run)"), "")
    stale = row_need(row) == "stale"
    return (Text(name, style=style), Text(state, style=state_style), progress,
            Text(good, style="bold yellow" if stale else ""), Text(needs, style=style), age,
            nxt)


def header_text(total: int, rows: list[JobRow], timers: bool) -> str:
    """`space-mirror · 3 jobs · 1 failed · 1 running`: the needs the rows carry, counted."""
    counts = {n: 0 for n in NEEDS}
    for row in rows:
        counts[row_need(row)] += 1
    live = sum(1 for r in rows if r.model.live)
    parts = [f"{total} jobs"]
    parts += [f"{counts[n]} {n}" for n in ("stalled", "failed", "stale") if counts[n]]
    parts.append(f"{live} running")
    systemd = "" if timers else " · no systemd timers found"
    return "space-mirror · " + " · ".join(parts) + systemd


class OverviewScreen(KeyedScreen):
    KEYS = KEYS
    BINDINGS: ClassVar[list[BindingType]] = K.bindings(KEYS)
    DEFAULT_CSS = """
    OverviewScreen #overview-title { height: 1; background: $primary; text-style: bold;
                                     padding: 0 1; }
    OverviewScreen #overview-table { height: 1fr; }
    """

    def __init__(self, jobs: list[tuple[Job, list[str]]], system: workers.Probes, *,
                 clock: Callable[[], datetime],
                 open_job: Callable[[Job, list[str]], Screen[Any]],
                 timers: Callable[[], dict[str, datetime]] | None = None) -> None:
        super().__init__()
        self.jobs = jobs
        self._open_job = open_job
        self.system = system
        self._clock = clock
        self._timer_source = timers or next_timer_runs
        self.stop = threading.Event()
        self.rows: list[JobRow] = []
        self.surveys = 0  # JobsSurveyed messages shown (tests wait for the first)

    def compose(self) -> ComposeResult:
        yield Static(Content(f"space-mirror · {len(self.jobs)} jobs"), id="overview-title")
        table = RowTable(id="overview-table", cursor_type="row")
        yield table
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        # Fixed widths: the cells change every survey, the columns must not jump.
        names = max([3, *(len(printable(job.name)) for job, _ in self.jobs)])
        # What needs the operator fits 80 columns (job, state, progress, last good mirror,
        # needs you); the last run's age and the next timer run come after.
        for label, width in (("Job", names), ("State", 18), ("Done", 4), ("Last good", 9),
                             ("Needs you", 28), ("Last", 14), ("Next run", 12)):
            table.add_column(label, width=width)
        for job, _ in self.jobs:
            table.add_row(printable(job.name), "reading…", "", "", "", "", "", key=job.name)
        table.focus()
        self._survey()

    def on_unmount(self) -> None:
        self.stop.set()

    def scroll_target(self) -> Widget | None:
        return self.query_one(DataTable)

    @work(thread=True, group="survey", exit_on_error=False)
    def _survey(self) -> None:
        watches = [_Watch(job) for job, _ in self.jobs]
        timers: dict[str, datetime] = {}
        asked = float("-inf")
        try:
            while not self.stop.is_set():
                now = self._clock()
                if now.timestamp() - asked >= TIMERS_INTERVAL:
                    try:
                        timers = self._timer_source()
                    except Exception:
                        timers = {}
                    asked = now.timestamp()
                rows = [w.look(self.system.find_running, now) for w in watches]
                self.post_message(JobsSurveyed(rows, timers))
                self.stop.wait(SURVEY_INTERVAL)
        finally:
            for w in watches:
                w.follower.close()

    @on(JobsSurveyed)
    def _surveyed(self, message: JobsSurveyed) -> None:
        self.rows = message.rows
        table = self.query_one(DataTable)
        now = self._clock()
        for row in message.rows:
            cells = row_cells(row, now, message.timers.get(timer_unit_name(row.name)))
            for column, value in zip(table.columns, styled_cells(row, cells), strict=False):
                table.update_cell(row.name, column, value)
        self._order_by_need(table, message.rows)
        self.query_one("#overview-title", Static).update(Content(
            header_text(len(self.jobs), message.rows, bool(message.timers))))
        self.surveys += 1

    def _order_by_need(self, table: DataTable[Any], rows: list[JobRow]) -> None:
        """Stalled, failed and stale jobs first, then the others, each in the config's
        order; the cursor stays on its job."""
        def urgency(row: JobRow) -> int:
            n = row_need(row)
            return URGENT.index(n) if n in URGENT else len(URGENT)

        rank = {printable(row.name): (urgency(row), i) for i, row in enumerate(rows)}
        order = sorted(rank, key=lambda name: rank[name])
        if [printable(str(r.key.value)) for r in table.ordered_rows] == order:
            return
        current = (table.coordinate_to_cell_key(table.cursor_coordinate).row_key
                   if table.row_count else None)
        table.sort(key=lambda values: rank.get(str(values[0]), (len(URGENT) + 1, 0)))
        if current is not None:
            table.move_cursor(row=table.get_row_index(current), animate=False)

    def action_open(self) -> None:
        self.query_one(DataTable).action_select_cursor()

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        # Rows are sorted by need: the row's key (the job's name) says which job, not its
        # position.
        for job, args in self.jobs:
            if job.name == event.row_key.value:
                self.app.push_screen(self._open_job(job, args))
                return
