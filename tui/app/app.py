"""The live dashboard of one mirror job.

It never reads rclone's pipes. Start and Dry run launch `space-mirror run` detached and then,
like for a run the timer started, the dashboard follows the log file: a thread worker reads
it (LogFollower), parses and folds every line into a RunState (Feed), and posts at most ~10
updates a second. A second worker asks every second what is running (the lock, or a legacy
rclone) and samples rclone's vital signs. Widgets only show what the messages carry.
"""

from __future__ import annotations

import functools
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, ClassVar, Protocol, TypeVar

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Input

from tui.app.feed import Feed, make_entry
from tui.app.messages import (
    AbortSent,
    LaunchFailed,
    LogLinesRead,
    PreflightFailed,
    RunLaunched,
    RunnerExited,
    StateUpdated,
    VitalsSampled,
)
from tui.app.screens.dialogs import AbortScreen, HelpScreen, QuitScreen
from tui.app.styles import css_path
from tui.app.widgets.inflight import FlightDeck
from tui.app.widgets.logview import MAX_LINES, LogView
from tui.app.widgets.preflight import ProblemPanel
from tui.app.widgets.status import Situation, StatusPanel, who_started
from tui.config import Job
from tui.core import exitcodes, markers
from tui.core.follow import LogFollower, last_start_offset
from tui.core.progress import in_flight
from tui.core.runstate import Phase, RunState
from tui.ops import preflight as preflight_ops
from tui.ops import processes
from tui.ops.credentials import display_remote
from tui.ops.health import last_success_time
from tui.ops.preflight import CheckResult
from tui.ops.processes import Launched, RunningSync, Vitals

UPDATE_INTERVAL = 0.1  # at most ~10 UI updates a second, whatever the log's pace
POLL_INTERVAL = 0.1
# With no start marker in the log, replay only its tail (a legacy log can be huge).
TAIL_WITHOUT_MARKER = 256 * 1024
# Our runner's refusals: it exited before (or instead of) running rclone.
REFUSALS = frozenset({exitcodes.USAGE, exitcodes.SOFTWARE, exitcodes.LOCKED, exitcodes.CONFIG})


W = TypeVar("W", bound=Widget)


class Sampler(Protocol):
    def sample(self) -> Vitals | None: ...


def _default_preflight(job: Job) -> list[CheckResult]:
    results, ctx = preflight_ops.run_checks(job)
    return preflight_ops.redacted(results, ctx.secrets)


M = TypeVar("M")


def while_mounted(handler: Callable[[MirrorApp, M], None]) -> Callable[[MirrorApp, M], None]:
    """For handlers of worker messages: a worker can post after the widgets are unmounted
    (the app is closing); such a late message changes nothing instead of raising."""

    @functools.wraps(handler)
    def guarded(app: MirrorApp, message: M) -> None:
        try:
            handler(app, message)
        except NoMatches:
            pass

    return guarded


class MirrorApp(App[int]):
    CSS_PATH = css_path("app.tcss")
    TITLE = "space-mirror"
    ENABLE_COMMAND_PALETTE = True
    # App declares these as instance variables, so mypy forbids ClassVar here.
    HORIZONTAL_BREAKPOINTS = [  # noqa: RUF012
        (0, "-w-tiny"), (60, "-w-narrow"), (80, "-w-normal")]
    VERTICAL_BREAKPOINTS = [  # noqa: RUF012
        (0, "-h-tiny"), (16, "-h-short"), (24, "-h-normal")]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "start", "Start"),
        Binding("d", "dry_run", "Dry run"),
        Binding("a", "abort", "Abort"),
        Binding("h", "history", "History"),
        Binding("p", "plan", "Plan"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
        Binding("slash", "search", "Search", key_display="/"),
        Binding("e", "toggle_errors", "Errors"),
        Binding("f", "toggle_files", "Files"),
        Binding("n", "next_match", "Next", show=False),
        Binding("N,shift+n", "previous_match", "Previous", show=False),
        Binding("end", "follow", "Follow", show=False),
        Binding("escape", "dismiss_panel", "Hide panel", show=False),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
    ]

    # Every key, for the help screen and docs/dashboard.md.
    KEYS: ClassVar[list[tuple[str, str]]] = [
        ("s", "start a sync (pre-flight checks first; the sync runs detached)"),
        ("d", "start a dry run (shows what would change, changes nothing)"),
        ("a", "abort the running sync (asks first)"),
        ("h", "history of past runs"),
        ("p", "plan: what a sync would copy, delete and rename; r there runs it for real"),
        ("?", "this help"),
        ("q", "quit (asks whether to leave a running sync running or abort it)"),
        ("/", "search the log; Enter jumps to the first match, Esc cancels"),
        ("n / N", "next / previous match"),
        ("e", "log: errors only (on/off)"),
        ("f", "log: hide per-file lines (on/off)"),
        ("↑ ↓ PgUp PgDn Home", "scroll the log (stops following)"),
        ("End", "follow the log again"),
        ("← →", "scroll long log lines sideways"),
        ("Esc", "hide the pre-flight / refusal panel"),
        ("ctrl+p", "command palette (every action above)"),
        ("ctrl+q", "quit, same as q"),
    ]

    def __init__(
        self,
        job: Job,
        job_args: list[str],
        *,
        clock: Callable[[], datetime] = markers.now,
        hostname: str | None = None,
        vitals_sampler: Callable[[int], Sampler] = processes.VitalsSampler,
        find_running: Callable[[Job], RunningSync | None] = processes.find_running,
        preflight: Callable[[Job], list[CheckResult]] = _default_preflight,
        launcher: Callable[[list[str]], Launched] = processes.start_detached,
        sample_interval: float = 1.0,
        max_lines: int = MAX_LINES,
    ) -> None:
        super().__init__()
        self.job = job
        self.job_args = job_args
        self._clock = clock
        self.hostname = hostname if hostname is not None else socket.gethostname()
        self._make_sampler = vitals_sampler
        self._find_running = find_running
        self._preflight = preflight
        self._launcher = launcher
        self._sample_interval = sample_interval
        self._max_lines = max_lines
        self._stop = threading.Event()
        self._wake = threading.Event()
        # What is shown; changed only on the UI thread, from messages.
        self.run_state = RunState()
        self.started_by: str | None = None
        self.running: RunningSync | None = None
        self.vitals: Vitals | None = None
        self.caught_up = False
        self.aborting = False
        self.pending: str | None = None
        self.probes = 0  # vitals samples received (tests wait for the first)
        self.state_updates = 0  # StateUpdated messages handled (the redraw budget)
        self._misses = 0  # consecutive probes that found nothing running
        self.last_exit: tuple[int, str] | None = None
        self._run_before_launch: str | None = None

    # -- layout ----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield StatusPanel(id="status")
        yield FlightDeck(id="deck")
        yield ProblemPanel(id="problem")
        log = LogView(self._max_lines, id="log")
        log.border_title = "log"
        yield log
        search = Input(placeholder="search the log (Enter: find, Esc: cancel)", id="search")
        search.display = False
        yield search
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = f"space-mirror · {self.job.name}"
        panel = self._q(StatusPanel)
        panel.warn_after, panel.last_success = self.job.warn_after, last_success_time(self.job)
        self._q(StatusPanel).show_identity(
            self.job.name, self.job.source, display_remote(self.job.destination), self.hostname)
        self._q(LogView).focus()
        self._refresh_status()
        self._update_log_title()
        # Paint first, then read: replaying the current run from a big log and scanning the
        # process table hold the GIL, and must not delay the first frame.
        self.call_after_refresh(self._start_workers)

    # Actions that belong to the dashboard screen: under History, Plan or a dialog they must
    # not fire (s on the Plan screen would bypass the plan's delete cap and confirmation).
    DASHBOARD_ONLY: ClassVar[frozenset[str]] = frozenset({
        "start", "dry_run", "abort", "plan", "search", "toggle_errors", "toggle_files",
        "next_match", "previous_match", "follow", "dismiss_panel", "help"})

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.DASHBOARD_ONLY and len(self.screen_stack) > 1:
            return False
        # ctrl+q on the quit dialog: one dialog is enough.
        return not (action == "quit" and type(self.screen).__name__ == "QuitScreen")

    def _start_workers(self) -> None:
        self._follow_log()
        self._sample_vitals()

    def on_unmount(self) -> None:
        self._stop.set()
        self._wake.set()

    def on_resize(self) -> None:
        self._refresh_status()

    @property
    def compact(self) -> bool:
        return self.size.width < 80

    # -- workers: they read and post, never touch widgets ----------------------------------
    @work(thread=True, group="follow", exit_on_error=False)
    def _follow_log(self) -> None:
        while not self._stop.is_set():
            try:
                self._follow_once()
            except Exception as exc:  # say so and start over: a stale dashboard misleads
                note = make_entry("note", f"-- reading the log failed ({type(exc).__name__}: "
                                          f"{exc}); starting over --")
                self.post_message(LogLinesRead([note]))
                self._stop.wait(1.0)

    def _follow_once(self) -> None:
        path = self.job.log_file
        start = last_start_offset(path)
        if start is None:
            try:
                start = max(0, path.stat().st_size - TAIL_WITHOUT_MARKER)
            except OSError:
                start = 0
        follower = LogFollower(path, start=start, poll_interval=POLL_INTERVAL)
        feed = Feed(self._max_lines)
        last_post = 0.0
        caught_up = False
        try:
            while not self._stop.is_set():
                batch = follower.poll()
                if batch.lines:
                    feed.feed(batch.lines)
                if batch.notice:
                    feed.note(batch.notice)
                more = len(batch.lines) >= follower.max_batch_lines
                now = time.monotonic()
                first = not caught_up and not more
                if (feed.dirty or first) and (now - last_post >= UPDATE_INTERVAL or first):
                    caught_up = caught_up or not more
                    entries = feed.take()
                    if entries:
                        self.post_message(LogLinesRead(entries))
                    self.post_message(StateUpdated(feed.state, feed.started_by, caught_up))
                    last_post = now
                if not more:
                    self._stop.wait(POLL_INTERVAL)
                else:
                    time.sleep(0.002)  # a breath for the UI thread between big batches
        finally:
            follower.close()

    @work(thread=True, group="vitals", exit_on_error=False)
    def _sample_vitals(self) -> None:
        sampler: Sampler | None = None
        sampler_pid: int | None = None
        while not self._stop.is_set():
            try:
                running = self._find_running(self.job)
            except Exception:  # a probe that fails must not stop the dashboard
                running = None
            vitals: Vitals | None = None
            pid = None
            if running is not None:
                pid = running.rclone_pid or (running.pid if running.kind == "legacy" else None)
            if pid is not None:
                if sampler is None or sampler_pid != pid:
                    try:
                        sampler, sampler_pid = self._make_sampler(pid), pid
                    except Exception:  # the process ended between the probe and now
                        sampler, sampler_pid = None, None
                if sampler is not None:
                    vitals = sampler.sample()
            else:
                sampler, sampler_pid = None, None
            self.post_message(VitalsSampled(running, vitals))
            self._wake.wait(self._sample_interval)
            self._wake.clear()

    @work(thread=True, group="launch", exclusive=True, exit_on_error=False)
    def _check_and_launch(self, dry_run: bool) -> None:
        try:
            results = self._preflight(self.job)
        except Exception as exc:
            results = [CheckResult("pre-flight", False, f"the checks could not run: {exc}",
                                   "run `space-mirror check` in a shell to see why")]
        if preflight_ops.failed(results):
            self.post_message(PreflightFailed(results, dry_run))
            return
        if self._stop.is_set():
            return  # the operator quit while the checks ran: start nothing behind their back
        try:
            launched = self._launcher(processes.runner_argv(self.job_args, dry_run))
        except OSError as exc:
            self.post_message(LaunchFailed(f"could not start the runner: {exc.strerror or exc}"))
            return
        self.post_message(RunLaunched(launched, dry_run))
        self._wake.set()
        self._reap(launched)

    @work(thread=True, group="launch", exclusive=True, exit_on_error=False)
    def _watch_launched(self, launched: Launched) -> None:
        """Reap a runner that another screen (the Plan's "run for real") started."""
        self._reap(launched)

    def _reap(self, launched: Launched) -> None:
        # Watch (and reap) the runner; its early exit is a refusal worth showing.
        while True:
            code = launched.finished()
            if code is not None:
                complaint = launched.complaint() if code else ""
                try:
                    os.unlink(launched.stderr_path)
                except OSError:
                    pass
                self.post_message(RunnerExited(code, complaint))
                self._wake.set()
                return
            if self._stop.wait(0.2):
                return

    @work(thread=True, group="abort", exit_on_error=False)
    def _send_abort(self) -> None:
        try:
            running = self._find_running(self.job) or self.running
        except Exception as exc:  # psutil races, a lock record of another version …
            # The operator pressed y: say what happened rather than nothing at all.
            self.post_message(AbortSent(f"could not find the sync to abort: {exc}"))
            return
        if running is None:
            self.post_message(AbortSent("nothing to abort: the sync has already ended"))
            return
        self.post_message(AbortSent(processes.request_abort(running)))
        self._wake.set()

    # -- messages → what is shown ------------------------------------------------------------
    @on(LogLinesRead)
    @while_mounted
    def _lines_read(self, message: LogLinesRead) -> None:
        self._q(LogView).append(message.entries)

    @on(StateUpdated)
    @while_mounted
    def _state_updated(self, message: StateUpdated) -> None:
        old = self.run_state
        self.state_updates += 1
        self.run_state = message.state
        self.started_by = message.started_by
        self.caught_up = message.caught_up
        if self.pending == "starting" and message.state.run_id != self._run_before_launch:
            self.pending = None  # our run's start marker is in (it may even have ended)
        if message.state.phase is Phase.RUNNING:
            if old.run_id != message.state.run_id or old.phase is not Phase.RUNNING:
                self._misses = 0
        elif message.state.phase is Phase.ENDED:
            self.aborting = False
            if old.phase is Phase.RUNNING:
                self._wake.set()  # the lock is about to go: look again soon
        self._refresh_status()

    @on(VitalsSampled)
    @while_mounted
    def _vitals_sampled(self, message: VitalsSampled) -> None:
        self.running = message.running
        self.vitals = message.vitals
        self.probes += 1
        self._misses = 0 if message.running is not None else self._misses + 1
        if message.running is None and not self.run_state.running:
            self.aborting = False  # stopped before its start marker, or already gone
        if message.running is not None and self.pending == "starting":
            self.pending = None
        self._refresh_status()

    @on(PreflightFailed)
    @while_mounted
    def _preflight_failed(self, message: PreflightFailed) -> None:
        self.pending = None
        self._q(ProblemPanel).show_checks(message.results, message.dry_run)
        self._refresh_status()

    @on(RunLaunched)
    @while_mounted
    def _run_launched(self, message: RunLaunched) -> None:
        self.pending = "starting"
        self._run_before_launch = self.run_state.run_id
        what = "dry run" if message.dry_run else "sync"
        self.notify(f"{what.capitalize()} started (runner pid {message.launched.process.pid}); "
                    "it keeps running if the dashboard closes.", timeout=4, markup=False)
        self._refresh_status()

    @on(RunnerExited)
    @while_mounted
    def _runner_exited(self, message: RunnerExited) -> None:
        self.pending = None
        if not self.run_state.running:
            self.aborting = False
        self.last_exit = (message.code, message.complaint)
        if message.code in REFUSALS:
            meaning = exitcodes.meaning(message.code)
            self._q(ProblemPanel).show_refusal(
                message.code, message.complaint, f"{meaning.meaning} {meaning.advice}")
        self._refresh_status()

    @on(LaunchFailed)
    @while_mounted
    def _launch_failed(self, message: LaunchFailed) -> None:
        self.pending = None
        self._q(ProblemPanel).show_problem("Nothing was started", message.problem)
        self._refresh_status()

    @on(AbortSent)
    @while_mounted
    def _abort_sent(self, message: AbortSent) -> None:
        if message.problem:
            self.notify(message.problem, title="Abort", severity="error", markup=False)
            return
        self.aborting = True
        self.notify("Abort sent: rclone stops and removes its partial files.",
                    title="Abort", markup=False)
        self._refresh_status()

    def situation(self) -> Situation:
        st = self.run_state
        interrupted = (st.phase is Phase.RUNNING and self.running is None
                       and self._misses >= 2 and self.pending is None)
        return Situation(state=st, started_by=self.started_by, running=self.running,
                         vitals=self.vitals, aborting=self.aborting, pending=self.pending,
                         interrupted=interrupted, now=self._clock(), caught_up=self.caught_up)

    def _refresh_status(self) -> None:
        try:
            panel = self._q(StatusPanel)
            deck = self._q(FlightDeck)
            problem = self._q(ProblemPanel)
        except NoMatches:  # the app is starting or ending
            return
        # While a problem panel is up nothing runs: give its room to the panel and the log.
        self.screen_stack[0].set_class(problem.shown, "-problem")
        s = self.situation()
        panel.show(s, compact=self.compact)
        stats = s.state.stats
        live = s.state.running
        deck.show(in_flight(s.state) if live else (), s.state.speeds,
                  stats.speed if (stats and live) else None)

    def _q(self, kind: type[W]) -> W:
        """A widget of the dashboard, even while a modal screen is on top of it."""
        return self.screen_stack[0].query_one(kind) if self.screen_stack else self.query_one(kind)

    def _update_log_title(self) -> None:
        self._q(LogView).retitle()

    # -- actions ---------------------------------------------------------------------------
    def _is_live(self) -> bool:
        """A sync is going: the lock (or a legacy rclone) says so, or the log does."""
        if self.running is not None:
            return True
        return self.run_state.running and not self.situation().interrupted

    def action_start(self) -> None:
        self._request_run(dry_run=False)

    def action_dry_run(self) -> None:
        self._request_run(dry_run=True)

    def _request_run(self, dry_run: bool) -> None:
        if self.pending is not None:
            self.notify(f"Already busy: {self.pending} …", severity="warning", markup=False)
            return
        if self._is_live():
            self.notify("A sync is already running; watch it here, or abort it with a.",
                        severity="warning", markup=False)
            return
        self._q(ProblemPanel).hide()
        self.pending = "pre-flight checks"
        self._refresh_status()
        self._check_and_launch(dry_run)

    def action_abort(self) -> None:
        if not self._is_live():
            self.notify("Nothing to abort: no sync is running.", severity="warning", markup=False)
            return
        st = self.run_state
        what = f"Run {st.run_id}" if st.run_id else "The running sync"
        who = who_started(self.situation())
        if who:
            what += f", started by {who}"
        self.push_screen(AbortScreen(what + "."), self._abort_chosen)

    def _abort_chosen(self, choice: str | None) -> None:
        if choice == "abort":
            self._send_abort()

    def action_history(self) -> None:
        above = {type(screen).__name__ for screen in self.screen_stack[1:]}
        if above & {"HistoryScreen", "RunDetailScreen"}:
            for _ in range(len(self.screen_stack) - 1):
                self.pop_screen()  # h again goes back to the dashboard
            return
        from tui.app.screens.history import HistoryScreen

        # The same probe as the dashboard's: one answer to "what is running?".
        self.push_screen(HistoryScreen(self.job, find_running=self._find_running))

    def action_plan(self) -> None:
        if self._is_live() or self.pending is not None:
            self.notify("A sync is running; plan when it has ended.",
                        severity="warning", markup=False)
            return
        from tui.app.screens.plan import PlanScreen

        self.push_screen(PlanScreen(self.job, self.job_args, launcher=self._launcher),
                         self._plan_done)

    def _plan_done(self, launched: Launched | None) -> None:
        if launched is None:
            return
        self.post_message(RunLaunched(launched, False))
        self._wake.set()
        self._watch_launched(launched)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.KEYS, extra=f"log file: {self.job.log_file}"))

    async def action_quit(self) -> None:
        if self._is_live():
            self.push_screen(QuitScreen(), self._quit_chosen)
            return
        self.exit(0)

    def _quit_chosen(self, choice: str | None) -> None:
        if choice == "leave":
            self.exit(0)
        elif choice == "abort":
            running = self.running
            if running is not None:
                problem = processes.request_abort(running)
                if problem:
                    self.notify(problem, title="Abort", severity="error", markup=False)
                    return
            self.exit(0)

    def action_search(self) -> None:
        search = self.screen_stack[0].query_one("#search", Input)
        search.display = True
        search.value = self._q(LogView).search_term
        search.focus()

    @on(Input.Submitted, "#search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        log = self._q(LogView)
        found = log.search(event.value)
        if event.value and not found:
            self.notify(f"not found: {event.value}", severity="warning", timeout=3, markup=False)
        self._close_search()
        self._update_log_title()

    def _close_search(self) -> None:
        search = self.screen_stack[0].query_one("#search", Input)
        search.display = False
        self._q(LogView).focus()

    def action_next_match(self) -> None:
        self._q(LogView).next_match()
        self._update_log_title()

    def action_previous_match(self) -> None:
        self._q(LogView).next_match(backwards=True)
        self._update_log_title()

    def action_toggle_errors(self) -> None:
        log = self._q(LogView)
        log.errors_only = not log.errors_only
        self._update_log_title()

    def action_toggle_files(self) -> None:
        log = self._q(LogView)
        log.hide_files = not log.hide_files
        self._update_log_title()

    def action_follow(self) -> None:
        self._q(LogView).follow = True
        self._update_log_title()

    def action_dismiss_panel(self) -> None:
        search = self.screen_stack[0].query_one("#search", Input)
        if search.display:
            self._close_search()
            return
        self._q(ProblemPanel).hide()
        self._refresh_status()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title != "Quit":
                yield command
        yield SystemCommand("Start sync", "Pre-flight checks, then run the sync (s)",
                            self.action_start)
        yield SystemCommand("Dry run", "Show what a sync would change, change nothing (d)",
                            self.action_dry_run)
        yield SystemCommand("Abort sync", "Stop the running sync; the mirror stays as it is (a)",
                            self.action_abort)
        yield SystemCommand("History", "Past runs of this job (h)", self.action_history)
        yield SystemCommand("Plan", "What a sync would copy, delete and rename (p)",
                            self.action_plan)
        yield SystemCommand("Keys", "Every key of the dashboard (?)", self.action_help)
        yield SystemCommand("Search log", "Find text in the log (/)", self.action_search)
        yield SystemCommand("Errors only", "Show only error lines in the log (e)",
                            self.action_toggle_errors)
        yield SystemCommand("Hide per-file lines", "Hide lines about single files (f)",
                            self.action_toggle_files)
        yield SystemCommand("Follow log", "Scroll to the end and follow (End)",
                            self.action_follow)
        yield SystemCommand("Quit", "Leave the dashboard (q)", self.action_quit)

