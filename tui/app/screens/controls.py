"""The running sync's bandwidth limit as the dashboard knows it (issue 15's `w`): which run
it was asked for, and what rclone answered. A part the DashboardScreen holds (composed, not
inherited); its workers ask rclone (tui.app.lookups) and its handlers fold the answers here."""

from __future__ import annotations

from dataclasses import dataclass

from tui.core.runstate import RunState


@dataclass
class Bandwidth:
    """The running sync's bandwidth limit, asked of rclone once per run."""

    limit: str | None = None  # the running sync's limit as rclone reports it (None: unknown)
    asked_for: str | None = None  # the run whose limit was asked for

    def to_ask(self, run: RunState) -> str | None:
        """After each model change: the run id to ask rclone about (once per new running
        run), or None; a run that ended forgets its limit."""
        if not run.running:
            self.limit = None
            return None
        if run.run_id != self.asked_for:
            self.asked_for, self.limit = run.run_id, None
            return run.run_id
        return None

    def answer(self, run: RunState, run_id: str | None, limit: str | None) -> bool:
        """rclone's answer for `run_id`; False when it is about a run that has ended."""
        if run_id != run.run_id or not run.running:
            return False
        self.limit = limit
        return True
