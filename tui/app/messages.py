"""Messages that workers post to the app. Past tense: each says what happened.

Workers never touch widgets; the app's @on handlers turn these into what is shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

from tui.app.feed import LogEntry
from tui.core import dashboard as dm
from tui.core.runstate import RunState

if TYPE_CHECKING:  # the history, the processes and the pre-flight come after the first frame
    from tui.core.history import Persistent, Run
    from tui.ops.preflight import CheckResult
    from tui.ops.processes import Launched, RunningSync, Vitals


class LogLinesRead(Message):
    """New display lines from the log (already bounded to what the view can keep)."""

    def __init__(self, entries: list[LogEntry]) -> None:
        super().__init__()
        self.entries = entries


class StateUpdated(Message):
    """The run's state after every line read so far. Only the newest one matters."""

    def __init__(self, state: RunState, started_by: str | None, caught_up: bool) -> None:
        super().__init__()
        self.state = state
        self.started_by = started_by
        self.caught_up = caught_up

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, StateUpdated)


class VitalsSampled(Message):
    """What is running now (the lock, or a legacy rclone) and rclone's vital signs."""

    def __init__(self, running: RunningSync | None, vitals: Vitals | None,
                 log_full: bool = False) -> None:
        super().__init__()
        self.running = running
        self.vitals = vitals
        self.log_full = log_full  # the log's file system is full: rclone's lines are lost

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, VitalsSampled)


class PreflightFailed(Message):
    def __init__(self, results: list[CheckResult], dry_run: bool) -> None:
        super().__init__()
        self.results = results
        self.dry_run = dry_run


class RunLaunched(Message):
    def __init__(self, launched: Launched, dry_run: bool) -> None:
        super().__init__()
        self.launched = launched
        self.dry_run = dry_run


class ModelEvent(Message):
    """A dashboard-model event (tui/core/dashboard.py) that a worker saw: the runner
    exited, the launch failed, the abort went out. Textual routes messages by class, so the
    core event travels inside this one message, never copied into a Message of its own."""

    def __init__(self, event: dm.RunnerExited | dm.LaunchFailed | dm.AbortSent) -> None:
        super().__init__()
        self.event = event


class LastRunLoaded(Message):
    """The newest finished run of the job, read from the history (`l`), or why not."""

    def __init__(self, run: Run | None, persistent: Persistent | None,
                 problem: str = "") -> None:
        super().__init__()
        self.run = run
        self.persistent = persistent
        self.problem = problem


class BandwidthRead(Message):
    """The running sync's bandwidth limit as rclone reports it (`limit` None: no remote
    control to ask), after a start or a change; `problem`: a change rclone refused."""

    def __init__(self, run_id: str | None, limit: str | None, problem: str = "",
                 changed: bool = False) -> None:
        super().__init__()
        self.run_id = run_id
        self.limit = limit
        self.problem = problem
        self.changed = changed
