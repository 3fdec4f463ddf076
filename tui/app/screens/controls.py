"""The dashboard's look-ups beyond the live log (issue 15): `l` opens the last run's detail,
`w` sets the running sync's bandwidth limit, and the limit in force is asked of rclone after
a start and after a change. Workers look it up (tui.app.lookups) and post; the handlers here
turn the answers into screens, notices and the status line. DashboardScreen builds on it."""

from __future__ import annotations

import threading

from textual import on, work

from tui.app import lookups
from tui.app import messages as msg
from tui.app.screens.logscreen import LogScreen
from tui.config import Job
from tui.core.dashboard import DashboardModel


class RunControls(LogScreen):
    job: Job
    model: DashboardModel
    stop: threading.Event
    bwlimit: str | None  # the running sync's limit as rclone reports it (None: unknown)

    def refresh_status(self) -> None:
        """Show the model again (the dashboard's)."""

    # -- workers ---------------------------------------------------------------------------
    @work(thread=True, group="bandwidth", exclusive=True, exit_on_error=False)
    def _read_bandwidth(self, run_id: str | None) -> None:
        lookups.read_bandwidth(self.job, run_id, self.stop, self.post_message)

    @work(thread=True, group="bandwidth", exclusive=True, exit_on_error=False)
    def _set_bandwidth(self, run_id: str | None, rate: str) -> None:
        lookups.set_bandwidth(self.job, run_id, rate, self.post_message)

    @work(thread=True, group="last-run", exclusive=True, exit_on_error=False)
    def _load_last_run(self) -> None:
        lookups.load_last_run(self.job, self.post_message)

    # -- the last run's detail (`l`) -------------------------------------------------------
    def action_last_run(self, _how: str = "") -> None:
        self._load_last_run()

    @on(msg.LastRunLoaded)
    def _last_run_loaded(self, message: msg.LastRunLoaded) -> None:
        if not self.is_attached:
            return
        if message.run is None:
            self.notify(message.problem, severity="warning", markup=False)
            return
        from tui.app.screens.run_detail import RunDetailScreen

        self.app.push_screen(RunDetailScreen(message.run, persistent=message.persistent,
                                             job=self.job))

    # -- bandwidth (`w`) -------------------------------------------------------------------
    def ask_bandwidth(self) -> None:
        """After each model change: ask rclone for the limit once per new running run."""
        run = self.model.run
        if not run.running:
            self.bwlimit = None
        elif run.run_id != self._bw_run:
            self._bw_run, self.bwlimit = run.run_id, None
            self._read_bandwidth(run.run_id)

    _bw_run: str | None = None  # the run whose limit was asked for

    def action_bandwidth(self, _how: str = "") -> None:
        if not self.model.live:
            self.notify("Nothing to limit: no sync is running (a limit for every run is the "
                        "job's bwlimit key).", severity="warning", markup=False)
            return
        from tui.app.screens.bandwidth import BandwidthScreen

        run_id = self.model.run.run_id
        self.app.push_screen(BandwidthScreen(self.bwlimit),
                             lambda rate: self._bandwidth_chosen(run_id, rate))

    def _bandwidth_chosen(self, run_id: str | None, rate: str | None) -> None:
        if rate is not None:
            self._set_bandwidth(run_id, rate)

    @on(msg.BandwidthRead)
    def _bandwidth_read(self, message: msg.BandwidthRead) -> None:
        if message.problem:
            self.notify(message.problem, title="Bandwidth", severity="error", markup=False)
            return
        if message.run_id != self.model.run.run_id or not self.model.run.running:
            return  # an answer about a run that has ended
        self.bwlimit = message.limit
        if message.changed and message.limit:
            self.notify(f"Bandwidth limit now {message.limit}", title="Bandwidth",
                        markup=False)
        self.refresh_status()
