"""The live dashboard of one mirror job: DashboardScreen(job).

It never reads rclone's pipes. Start and Dry run launch `space-mirror run` detached and then,
like for a run the timer started, the screen follows the log file: a thread worker reads it,
folds every line into a RunState (tui.app.feed) and posts at most ~10 updates a second. A
second worker asks every second what is running and samples rclone's vital signs. Every
message becomes an event of the DashboardModel (tui.core.dashboard); the widgets show it.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, TypeVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.css.query import NoMatches
from textual.widget import Widget
from textual.widgets import Footer

from tui.app import keys as K
from tui.app import lookups, workers
from tui.app import messages as msg
from tui.app.keys import Key
from tui.app.screens.controls import Bandwidth
from tui.app.screens.logscreen import LogScreen, search_box
from tui.app.widgets.inflight import FlightDeck
from tui.app.widgets.logview import LogView
from tui.app.widgets.preflight import ProblemPanel
from tui.app.widgets.status import Situation, StatusPanel, who_started
from tui.config import Job
from tui.core import dashboard as dm
from tui.core import exitcodes
from tui.core.dashboard import DashboardModel
from tui.core.progress import in_flight
from tui.core.remotes import display_remote
from tui.core.text import printable
from tui.ops.monitor.summary import last_success_time

if TYPE_CHECKING:  # the process probe and the launcher run after the first frame
    from tui.ops.processes import Launched, RunningSync, Vitals

# Our runner's refusals: it exited before (or instead of) running rclone.
REFUSALS = frozenset({exitcodes.USAGE, exitcodes.SOFTWARE, exitcodes.LOCKED, exitcodes.CONFIG})

KEYS: tuple[Key, ...] = (
    Key("s", "start", "Start", "start a sync (pre-flight checks first; the sync runs detached)",
        when="idle", title="Start sync"),
    Key("d", "dry_run", "Dry run", "start a dry run (shows what would change, changes nothing)",
        when="idle", min_width=60),
    Key("a", "abort", "Abort", "abort the running sync (asks first)", when="live",
        title="Abort sync"),
    Key("w", "bandwidth", "Limit",
        "set the running sync's bandwidth limit (512k, 10M, off)",
        when="live", min_width=80, title="Bandwidth limit"),
    Key("h", "history", "History", "history of past runs", min_width=60),
    # Not in the footer at 80 columns (no room): the reason line names it after a failure.
    Key("l", "last_run", "Last run",
        "the last run's detail: why, which files, what to do", min_width=100,
        title="Last run's detail"),
    Key("p", "plan", "Plan",
        "plan: what a sync would copy, delete and rename; r there runs it for real",
        when="idle", min_width=60),
    K.HELP,
    K.QUIT_TOP,
    K.BACK_TO_OVERVIEW,
    K.SEARCH[0],
    Key("e", "toggle_errors", "Errors", "log: errors only (on/off)", min_width=80,
        title="Errors only"),
    Key("f", "toggle_files", "Files", "log: hide per-file lines (on/off)", min_width=80,
        title="Hide per-file lines"),
    *K.SEARCH[1:],
    Key("end", "follow", "Follow", "follow the log again", "End", footer=False,
        title="Follow log"),
    K.ESCAPE,
    K.QUIT,
    *K.LOG_NAVIGATION,
)

M = TypeVar("M")


def while_mounted(handler: Callable[[DashboardScreen, M], None]
                  ) -> Callable[[DashboardScreen, M], None]:
    """A worker can post after the widgets are gone (the screen is closing): such a late
    message changes nothing instead of raising."""

    @functools.wraps(handler)
    def guarded(screen: DashboardScreen, message: M) -> None:
        try:
            handler(screen, message)
        except NoMatches:
            pass

    return guarded


W = TypeVar("W", bound=Widget)


class DashboardScreen(LogScreen):
    KEYS = KEYS
    BINDINGS: ClassVar[list[BindingType]] = K.bindings(KEYS)
    HELP_EXTRA = (("← →", "scroll long log lines sideways"),
                  ("Ctrl-p", "command palette: every action of this screen"))

    def __init__(self, job: Job, job_args: list[str], probes: workers.Probes, *,
                 clock: Callable[[], datetime], hostname: str, sample_interval: float = 1.0,
                 max_lines: int = 5000) -> None:
        super().__init__()
        self.job = job
        self.job_args = job_args
        self.probes = probes
        self._clock = clock
        self.hostname = hostname
        self._sample_interval = sample_interval
        self._max_lines = max_lines
        self.stop = threading.Event()
        self._wake = threading.Event()
        self.model = DashboardModel()
        self.vitals: Vitals | None = None
        self.log_full = False  # the log's disk is full: rclone's lines (its progress) lost
        self.known_running: RunningSync | None = None
        self._footer_key: tuple[bool, int] | None = None
        self.bandwidth = Bandwidth()

    # -- layout ----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield StatusPanel(id="status")
        yield FlightDeck(id="deck")
        yield ProblemPanel(id="problem")
        log = LogView(self._max_lines, id="log")
        log.border_title = "log"
        yield log
        yield search_box("search the log (Enter: find, Esc: cancel)")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        panel = self.query_one(StatusPanel)
        panel.warn_after = self.job.warn_after
        panel.last_success = last_success_time(self.job.summary_path)
        panel.show_identity(
            self.job.name, self.job.source, display_remote(self.job.destination), self.hostname)
        self.query_one(LogView).focus()
        self._fit_deck()
        self.refresh_status()
        self.query_one(LogView).retitle()
        # Paint first, then read: replaying the current run from a big log and scanning the
        # process table hold the GIL, and must not delay the first frame.
        self.call_after_refresh(self._start_workers)

    def _start_workers(self) -> None:
        self._say_if_out_of_sight()
        self._follow_log()
        self._sample_vitals()

    def _say_if_out_of_sight(self) -> None:
        """Not root: say so before the first probe, rather than show IDLE for a running
        sync (the lock's module loads here, after the first frame, with the probes)."""
        from tui.ops import lock

        hidden = lock.out_of_sight(self.job.lock_path)
        if hidden is not None:
            self.query_one(ProblemPanel).show_problem("Runs of this job are out of sight",
                                                      printable(hidden))

    def on_unmount(self) -> None:
        self.stop.set()
        self._wake.set()

    def on_resize(self) -> None:
        self._fit_deck()
        self.refresh_status()

    def _fit_deck(self) -> None:
        try:
            deck = self.query_one(FlightDeck)
        except NoMatches:
            return
        deck.fit(self.job.transfers, self.app.size.height)

    def help_note(self) -> str:
        return f"log file: {self.job.log_file}"

    # -- workers: they read and post, never touch widgets ----------------------------------
    @work(thread=True, group="follow", exit_on_error=False)
    def _follow_log(self) -> None:
        workers.follow_log(self.job, self._max_lines, self.stop, self.post_message)

    @work(thread=True, group="vitals", exit_on_error=False)
    def _sample_vitals(self) -> None:
        workers.sample_vitals(self.job, self.probes, self._sample_interval, self.stop,
                              self._wake, self.post_message)

    @work(thread=True, group="launch", exclusive=True, exit_on_error=False)
    def _check_and_launch(self, dry_run: bool) -> None:
        workers.check_and_launch(self.job, self.job_args, dry_run, self.probes, self.stop,
                                 self._wake, self.post_message)

    @work(thread=True, group="launch", exclusive=True, exit_on_error=False)
    def _watch_launched(self, launched: Launched) -> None:
        """Reap a runner that the Plan screen's "run for real" started."""
        workers.reap(launched, self.stop, self._wake, self.post_message)

    @work(thread=True, group="abort", exit_on_error=False)
    def _send_abort(self) -> None:
        workers.send_abort(self.job, self.probes, self.known_running, self._wake,
                           self.post_message)

    @work(thread=True, group="bandwidth", exclusive=True, exit_on_error=False)
    def _read_bandwidth(self, run_id: str | None) -> None:
        lookups.read_bandwidth(self.job, run_id, self.stop, self.post_message)

    @work(thread=True, group="bandwidth", exclusive=True, exit_on_error=False)
    def _set_bandwidth(self, run_id: str | None, rate: str) -> None:
        lookups.set_bandwidth(self.job, run_id, rate, self.post_message)

    @work(thread=True, group="last-run", exclusive=True, exit_on_error=False)
    def _load_last_run(self) -> None:
        lookups.load_last_run(self.job, self.post_message)

    # -- messages → model → what is shown ----------------------------------------------------
    def fold(self, event: dm.Event) -> None:
        old = self.model
        self.model = dm.reduce(old, event)
        if old.run.running and not self.model.run.running:
            self._wake.set()  # the lock is about to go: look again soon
        asked = self.bandwidth.to_ask(self.model.run)
        if asked is not None:  # after a start: rclone's limit, when it has a remote control
            self._read_bandwidth(asked)
        self.refresh_status()

    @on(msg.LogLinesRead)
    @while_mounted
    def _lines_read(self, message: msg.LogLinesRead) -> None:
        self.query_one(LogView).append(message.entries)

    @on(msg.StateUpdated)
    @while_mounted
    def _state_updated(self, message: msg.StateUpdated) -> None:
        self.fold(dm.LogRead(message.state, message.started_by, message.caught_up,
                             self._clock()))

    @on(msg.VitalsSampled)
    @while_mounted
    def _vitals_sampled(self, message: msg.VitalsSampled) -> None:
        self.known_running = message.running
        self.vitals = message.vitals
        self.log_full = message.log_full
        self.fold(dm.Probed(message.running))

    @on(msg.PreflightFailed)
    @while_mounted
    def _preflight_failed(self, message: msg.PreflightFailed) -> None:
        self.query_one(ProblemPanel).show_checks(message.results, message.dry_run)
        self.fold(dm.PreflightRefused())

    @on(msg.RunLaunched)
    @while_mounted
    def _run_launched(self, message: msg.RunLaunched) -> None:
        what = "dry run" if message.dry_run else "sync"
        self.notify(f"{what.capitalize()} started (runner pid {message.launched.process.pid}); "
                    "it keeps running if the dashboard closes.", timeout=4, markup=False)
        self.fold(dm.RunnerLaunched())

    @on(msg.ModelEvent)
    @while_mounted
    def _model_event(self, message: msg.ModelEvent) -> None:
        event = message.event
        if isinstance(event, dm.RunnerExited) and event.code in REFUSALS:
            meaning = exitcodes.meaning(event.code)
            self.query_one(ProblemPanel).show_refusal(
                event.code, event.complaint, f"{meaning.meaning} {meaning.advice}")
        elif isinstance(event, dm.LaunchFailed):
            self.query_one(ProblemPanel).show_problem("Nothing was started", event.problem)
        elif isinstance(event, dm.AbortSent):
            if event.problem:
                self.notify(event.problem, title="Abort", severity="error", markup=False)
                return
            self.notify("Abort sent: rclone stops; what it had synced stays, and the next "
                        "run removes any partial files.", title="Abort", markup=False)
        self.fold(event)

    def situation(self) -> Situation:
        m = self.model
        return Situation(state=m.run, started_by=m.started_by, running=self.known_running,
                         vitals=self.vitals, aborting=m.aborting, pending=m.pending,
                         interrupted=m.interrupted, now=self._clock(),
                         caught_up=m.caught_up, stall_timeout=self.job.stall_timeout,
                         log_full=self.log_full,
                         bwlimit=self.bandwidth.limit if m.run.running else None)

    def refresh_status(self) -> None:
        try:
            panel = self.query_one(StatusPanel)
            deck = self.query_one(FlightDeck)
            problem = self.query_one(ProblemPanel)
        except NoMatches:  # the screen is starting or ending
            return
        # While a problem panel is up nothing runs: give its room to the panel and the log.
        self.set_class(problem.shown, "-problem")
        s = self.situation()
        panel.show(s, compact=self.app.size.width < 80)
        stats = s.state.stats
        live = self.model.live and s.state.running  # an interrupted run has nothing in flight
        # A stalled run's files move no more: no speed shown for them, nor for the run.
        deck.show(in_flight(s.state) if live else (), s.state.speeds,
                  stats.speed if (stats and live and not panel.stalled) else None,
                  stalled=panel.stalled)
        self._refresh_footer()

    # -- the footer shows what can be done now, and what fits ----------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return K.footer_allows(self.KEYS, action, parameters, live=self.model.busy,
                               width=self.app.size.width, first=self.is_first())

    def _refresh_footer(self) -> None:
        key = (self.model.busy, self.app.size.width)
        if key == self._footer_key:
            return
        self._footer_key = key
        for footer in self.query(Footer):
            footer.show_command_palette = self.app.size.width >= K.PALETTE_MIN_WIDTH
        self.refresh_bindings()

    # -- actions ---------------------------------------------------------------------------
    def action_start(self, _how: str = "") -> None:
        self._request_run(dry_run=False)

    def action_dry_run(self, _how: str = "") -> None:
        self._request_run(dry_run=True)

    def _request_run(self, dry_run: bool) -> None:
        refusal = self.model.refusal()
        if refusal is not None:
            self.notify(refusal, severity="warning", markup=False)
            return
        self.query_one(ProblemPanel).hide()
        self.fold(dm.Requested())
        self._check_and_launch(dry_run)

    def action_abort(self, _how: str = "") -> None:
        if not self.model.live:
            self.notify("Nothing to abort: no sync is running.", severity="warning", markup=False)
            return
        st = self.model.run
        what = f"Run {st.run_id}" if st.run_id else "The running sync"
        who = who_started(self.situation())
        if who:
            what += f", started by {who}"
        from tui.app.screens.dialogs import AbortScreen  # loaded when first asked

        self.app.push_screen(AbortScreen(what + "."), self._abort_chosen)

    def _abort_chosen(self, choice: str | None) -> None:
        if choice == "abort":
            self._send_abort()

    def action_history(self, _how: str = "") -> None:
        from tui.app.screens.history import HistoryScreen

        # The same probe as the dashboard's: one answer to "what is running?".
        self.app.push_screen(HistoryScreen(self.job, find_running=self.probes.find_running))

    def action_plan(self, _how: str = "") -> None:
        if self.model.busy:
            self.notify("A sync is running; plan when it has ended.",
                        severity="warning", markup=False)
            return
        from tui.app.screens.plan import PlanScreen

        self.app.push_screen(PlanScreen(self.job, self.job_args, launcher=self.probes.launcher),
                             self._plan_done)

    def _plan_done(self, launched: Launched | None) -> None:
        if launched is None:
            return
        self.post_message(msg.RunLaunched(launched, False))
        self._wake.set()
        self._watch_launched(launched)

    async def action_back(self, _how: str = "") -> None:
        if not self.is_first():
            self.dismiss(None)
        else:
            await self.app.action_quit()  # asks first while a sync runs

    async def action_back_stacked(self, _how: str = "") -> None:
        await self.action_back()

    # -- the last run's detail (`l`) ---------------------------------------------------------
    def action_last_run(self, _how: str = "") -> None:
        self._load_last_run()

    @on(msg.LastRunLoaded)
    @while_mounted
    def _last_run_loaded(self, message: msg.LastRunLoaded) -> None:
        if message.run is None:
            self.notify(message.problem, severity="warning", markup=False)
            return
        from tui.app.screens.run_detail import RunDetailScreen

        self.app.push_screen(RunDetailScreen(message.run, persistent=message.persistent,
                                             job=self.job))

    # -- bandwidth (`w`) -----------------------------------------------------------------------
    def action_bandwidth(self, _how: str = "") -> None:
        if not self.model.live:
            self.notify("Nothing to limit: no sync is running (a limit for every run is the "
                        "job's bwlimit key).", severity="warning", markup=False)
            return
        from tui.app.screens.bandwidth import BandwidthScreen

        run_id = self.model.run.run_id
        self.app.push_screen(BandwidthScreen(self.bandwidth.limit),
                             lambda rate: self._bandwidth_chosen(run_id, rate))

    def _bandwidth_chosen(self, run_id: str | None, rate: str | None) -> None:
        if rate is not None:
            self._set_bandwidth(run_id, rate)

    @on(msg.BandwidthRead)
    @while_mounted
    def _bandwidth_read(self, message: msg.BandwidthRead) -> None:
        if message.problem:
            self.notify(message.problem, title="Bandwidth", severity="error", markup=False)
            return
        if not self.bandwidth.answer(self.model.run, message.run_id, message.limit):
            return  # an answer about a run that has ended
        if message.changed and message.limit:
            self.notify(f"Bandwidth limit now {message.limit}", title="Bandwidth",
                        markup=False)
        self.refresh_status()

    def quit_chosen(self, choice: str | None) -> None:
        """The quit dialog's answer (asked by the App for this screen's running sync)."""
        if choice == "leave":
            self.app.exit(0)
        elif choice == "abort":
            running = self.known_running
            if running is not None:
                from tui.ops import processes

                problem = processes.request_abort(running)
                if problem:
                    self.notify(problem, title="Abort", severity="error", markup=False)
                    return
            self.app.exit(0)

    def clear_one(self) -> bool:
        """Esc: the search box, then the search, then the filters, then the panel."""
        if super().clear_one():
            return True
        problem = self.query_one(ProblemPanel)
        if problem.shown:
            problem.hide()
            self.refresh_status()
            return True
        return False
