"""The Textual App: a thin shell around the screens.

With one job it opens that job's DashboardScreen; with several, the OverviewScreen (one row
per job; Enter opens the job's dashboard). Each screen owns its keys, workers and state. The
App only builds the first screen, the command palette (from the current screen's key table)
and the quit question.
"""

from __future__ import annotations

import functools
import socket
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from tui.app import keys as K
from tui.app import workers
from tui.app.screens.dashboard import DashboardScreen
from tui.app.styles import css_path
from tui.app.widgets.logview import MAX_LINES
from tui.app.widgets.status import Situation
from tui.app.workers import (
    Sampler,
    default_find_running,
    default_launcher,
    default_preflight,
    default_sampler,
    launch_problem,
)
from tui.config import Job
from tui.core import markers
from tui.core.runstate import RunState

if TYPE_CHECKING:  # loaded by the workers after the first frame
    from tui.ops.preflight import CheckResult
    from tui.ops.processes import Launched, RunningSync, Vitals

__all__ = ["MirrorApp", "Sampler", "launch_problem"]


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
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True)]

    def __init__(
        self,
        job: Job,
        job_args: list[str],
        *,
        jobs: Sequence[tuple[Job, list[str]]] = (),
        clock: Callable[[], datetime] = markers.now,
        hostname: str | None = None,
        vitals_sampler: Callable[[int], Sampler] = default_sampler,
        find_running: Callable[[Job], RunningSync | None] = default_find_running,
        preflight: Callable[[Job], list[CheckResult]] = default_preflight,
        launcher: Callable[[list[str]], Launched] = default_launcher,
        sample_interval: float = 1.0,
        max_lines: int = MAX_LINES,
        timers: Callable[[], dict[str, datetime]] | None = None,
    ) -> None:
        """`job` opens its dashboard; `jobs` (two or more) open the overview instead."""
        super().__init__()
        self.job = job
        self.job_args = job_args
        self.jobs = list(jobs)
        self.clock = clock
        self.hostname = hostname if hostname is not None else socket.gethostname()
        self.system = workers.Probes(find_running, vitals_sampler, preflight, launcher)
        self._sample_interval = sample_interval
        self._max_lines = max_lines
        self._timer_source = timers
        self._dashboard: DashboardScreen | None = None

    def dashboard_for(self, job: Job, job_args: list[str]) -> DashboardScreen:
        """A job's dashboard: the first screen (q quits), or one opened from the overview
        (q goes back to it)."""
        return DashboardScreen(job, job_args, self.system, clock=self.clock, hostname=self.hostname,
                    sample_interval=self._sample_interval, max_lines=self._max_lines)

    def get_default_screen(self) -> Screen[Any]:
        if len(self.jobs) > 1:
            from tui.app.screens.overview import OverviewScreen

            return OverviewScreen(self.jobs, self.system, clock=self.clock,
                                  open_job=self.dashboard_for, timers=self._timer_source)
        self.title = f"space-mirror · {self.job.name}"
        self._dashboard = self.dashboard_for(self.job, self.job_args)
        return self._dashboard

    # -- quitting: one question, whichever screen asks -------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # ctrl+q on the quit dialog: one dialog is enough.
        if action != "quit":
            return True
        from tui.app.screens.dialogs import QuitScreen  # the dialogs load when first asked

        return not isinstance(self.screen, QuitScreen)

    async def action_quit(self) -> None:
        live = [s for s in self.screen_stack if isinstance(s, DashboardScreen) and s.model.live]
        if live:
            from tui.app.screens.dialogs import QuitScreen

            self.push_screen(QuitScreen(), live[-1].quit_chosen)
            return
        self.exit(0)

    # -- the palette: the current screen's key table, and nothing of Textual's own -----------
    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        table: tuple[K.Key, ...] = getattr(screen, "KEYS", ())
        is_first = getattr(screen, "is_first", None)
        for key in K.palette_entries(table, is_first() if callable(is_first) else None):
            yield SystemCommand(key.palette_title, f"{key.help} ({key.shown_keys})",
                                functools.partial(self.run_action, K.runnable_action(key),
                                                  screen))

    # -- the single job's dashboard, as tests and scripts read it ---------------------------
    @property
    def dashboard(self) -> DashboardScreen:
        if self._dashboard is None:
            raise LookupError("no single-job dashboard: this app shows the overview")
        return self._dashboard

    @property
    def run_state(self) -> RunState:
        return self.dashboard.model.run

    @property
    def caught_up(self) -> bool:
        return self.dashboard.model.caught_up

    @property
    def probes(self) -> int:
        return self.dashboard.model.probes

    @property
    def _stop(self) -> threading.Event:
        return self.dashboard.stop

    @property
    def pending(self) -> str | None:
        return self.dashboard.model.pending

    @property
    def aborting(self) -> bool:
        return self.dashboard.model.aborting

    @property
    def started_by(self) -> str | None:
        return self.dashboard.model.started_by

    @property
    def last_exit(self) -> tuple[int, str] | None:
        return self.dashboard.model.last_exit

    @property
    def state_updates(self) -> int:
        return self.dashboard.model.log_updates

    @property
    def running(self) -> RunningSync | None:
        return self.dashboard.known_running

    @property
    def vitals(self) -> Vitals | None:
        return self.dashboard.vitals

    def situation(self) -> Situation:
        return self.dashboard.situation()
