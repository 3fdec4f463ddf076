"""What a run knows while it goes: its options and the state its parts share."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from tui.config import Job
from tui.core import exitcodes
from tui.core.runstate import RunState
from tui.core.triage import Tally
from tui.ops.guards import baseline, deletes, source
from tui.ops.run.watchdog import Trip


@dataclass
class RunOptions:
    dry_run: bool = False
    offline: bool = False  # skip the destination check (tests, or a known-good remote)
    started_by: str = "cli"
    force: bool = False
    extra_start_fields: dict[str, str] = field(default_factory=dict)
    max_delete: int | None = None


@dataclass
class Abort:
    requested_by: str | None = None  # the signal name that asked us to stop
    count: int = 0


def new_run_id(clock: Callable[[], float] = time.time) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(clock()))
    return f"{stamp}-{secrets.token_hex(2)}"


def started_by_default(environ: Mapping[str, str]) -> str:
    # systemd sets INVOCATION_ID for every unit it starts: that is the nightly timer.
    return "timer" if environ.get("INVOCATION_ID") else "cli"


@dataclass
class RunContext:
    """One run's facts, filled in as it goes; the verdict and the reporters read them."""

    job: Job
    opts: RunOptions
    run_id: str = field(default_factory=new_run_id)
    started_ts: float = field(default_factory=time.time)  # unix seconds
    wall_start: float = field(default_factory=time.monotonic)
    secrets: frozenset[str] = frozenset()
    env_file_names: frozenset[str] = frozenset()  # names the env file defined (kept from hooks)
    abort: Abort = field(default_factory=Abort)
    state: RunState = field(default_factory=RunState)
    errors: Tally = field(default_factory=Tally)  # each failing file or cause once
    ran_rclone: bool = False
    crashed: bool = False  # rclone printed a Go stack dump (SIGQUIT or panic)
    max_delete_hit: bool = False  # rclone logged `--max-delete threshold reached`
    trip: Trip | None = None  # the watchdog stopped this run
    partials_left: int | None = None  # counted after a stop; None: unknown or not counted
    cut_short_left: int | None = 0  # in-place files an older rclone cut short (partials.py)
    partials_counted: bool = False
    # The safety guards: the summary's baseline before this run, the source verdict, the
    # --max-delete passed, and the fields they add to the start marker.
    baseline: baseline.Baseline | None = None
    source: source.SourceVerdict | None = None
    delete_cap: deletes.DeleteGuard | None = None
    safety_fields: dict[str, str] = field(default_factory=dict)

    @property
    def mode(self) -> str:
        return "dry-run" if self.opts.dry_run else "sync"

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.wall_start

    @property
    def stalled(self) -> bool:
        return self.trip is not None and self.trip.code == exitcodes.STALLED
