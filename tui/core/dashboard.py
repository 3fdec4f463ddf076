"""DashboardModel: what one job's dashboard knows, and `reduce(model, event) -> model`.

The one answer to "is a sync live?". The follow worker reports the log's RunState, the probe
reports what holds the lock (or a legacy rclone), the launch and abort workers report what
they did; each report is an event, folded here. Pure: no Textual, no processes, no clock
(events carry their time). Widgets show the model; screens decide with its properties.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from tui.core.runstate import Phase, RunState

PREFLIGHT = "pre-flight checks"
STARTING = "starting"
# Probes in a row that found nothing running before a run the log calls running is
# called interrupted (one miss can be the lock changing hands).
MISSES_FOR_INTERRUPTED = 2


class HolderView(Protocol):
    """What holds the job's lock (tui.ops.processes.RunningSync fits)."""

    @property
    def mode(self) -> str: ...

    @property
    def started_by(self) -> str: ...


# -- events -------------------------------------------------------------------------------
@dataclass(frozen=True)
class LogRead:
    """The run's state after every line read so far."""

    state: RunState
    started_by: str | None
    caught_up: bool
    at: datetime | None = None


@dataclass(frozen=True)
class Probed:
    """What is running now (None: nothing holds the lock)."""

    running: HolderView | None


@dataclass(frozen=True)
class Requested:
    """The operator asked for a run: the pre-flight checks begin."""


@dataclass(frozen=True)
class PreflightRefused:
    """The checks failed: nothing was started."""


@dataclass(frozen=True)
class RunnerLaunched:
    """The runner was started."""


@dataclass(frozen=True)
class LaunchFailed:
    """The runner could not be started: `problem` says why."""

    problem: str


@dataclass(frozen=True)
class RunnerExited:
    """The runner the dashboard started has exited with `code`."""

    code: int
    complaint: str = ""


@dataclass(frozen=True)
class AbortSent:
    """The abort went out; `problem` says why it could not, when it could not."""

    problem: str | None = None


Event = (LogRead | Probed | Requested | PreflightRefused | RunnerLaunched | LaunchFailed
         | RunnerExited | AbortSent)


@dataclass(frozen=True)
class DashboardModel:
    """Everything the dashboard knows, folded from its events (`fold`): the run the log
    shows, what the probes found running, and what the operator asked for."""

    run: RunState = field(default_factory=RunState)
    started_by: str | None = None
    caught_up: bool = False
    running: HolderView | None = None
    probes: int = 0  # probe answers received
    misses: int = 0  # probes in a row that found nothing running
    pending: str | None = None  # PREFLIGHT | STARTING
    run_before_launch: str | None = None
    aborting: bool = False
    last_exit: tuple[int, str] | None = None
    log_updates: int = 0  # LogRead events folded (the redraw budget)
    progress_at: datetime | None = None  # when the bytes last moved
    progress_bytes: int = -1

    @property
    def interrupted(self) -> bool:
        """The log says running, but nothing has run for two probes: a killed run."""
        return (self.run.phase is Phase.RUNNING and self.running is None
                and self.misses >= MISSES_FOR_INTERRUPTED and self.pending is None)

    @property
    def live(self) -> bool:
        """A sync is going: the lock (or a legacy rclone) says so, or the log does."""
        if self.running is not None:
            return True
        return self.run.running and not self.interrupted

    @property
    def busy(self) -> bool:
        """Live, or about to be: no second run may be requested."""
        return self.live or self.pending is not None

    def stalled_for(self, now: datetime | None) -> float | None:
        """Seconds since the bytes last moved while live; None when not live or unknown."""
        if not self.live or now is None or self.progress_at is None:
            return None
        try:
            return max(0.0, (now - self.progress_at).total_seconds())
        except TypeError:  # naive vs aware
            return None

    def refusal(self) -> str | None:
        """Why a new run may not start now, or None."""
        if self.pending is not None:
            return f"Already busy: {self.pending} …"
        if self.live:
            return "A sync is already running; watch it here, or abort it with a."
        return None


def reduce(model: DashboardModel, event: Event) -> DashboardModel:
    """Fold one event into the model. Pure: returns a new model."""
    if isinstance(event, LogRead):
        return _log_read(model, event)
    if isinstance(event, Probed):
        running = event.running
        m = replace(model, running=running, probes=model.probes + 1,
                    misses=0 if running is not None else model.misses + 1)
        if running is None and not model.run.running:
            m = replace(m, aborting=False)  # stopped before its start marker, or gone
        if running is not None and model.pending == STARTING:
            m = replace(m, pending=None)
        return m
    if isinstance(event, Requested):
        return replace(model, pending=PREFLIGHT)
    if isinstance(event, PreflightRefused | LaunchFailed):
        return replace(model, pending=None)
    if isinstance(event, RunnerLaunched):
        return replace(model, pending=STARTING, run_before_launch=model.run.run_id)
    if isinstance(event, RunnerExited):
        return replace(model, pending=None, last_exit=(event.code, event.complaint),
                       aborting=model.aborting and model.run.running)
    if isinstance(event, AbortSent):
        return model if event.problem else replace(model, aborting=True)
    return model  # pragma: no cover - Event is closed


def _log_read(model: DashboardModel, event: LogRead) -> DashboardModel:
    old, new = model.run, event.state
    m = replace(model, run=new, started_by=event.started_by, caught_up=event.caught_up,
                log_updates=model.log_updates + 1)
    if model.pending == STARTING and new.run_id != model.run_before_launch:
        m = replace(m, pending=None)  # our run's start marker is in (it may even have ended)
    if new.phase is Phase.RUNNING:
        if old.run_id != new.run_id or old.phase is not Phase.RUNNING:
            m = replace(m, misses=0, progress_at=event.at, progress_bytes=new.bytes)
        elif new.bytes != model.progress_bytes:
            m = replace(m, progress_at=event.at, progress_bytes=new.bytes)
    elif new.phase is Phase.ENDED:
        m = replace(m, aborting=False)
    return m
