"""What a run knows while it goes: the state the runner's parts share.

`Runner` (tui/ops/runner.py) is a chain of small classes, one job each:
RunOutput (stdout, stderr, the log's markers: runlog.py) → RcloneControl (following,
judging and stopping rclone: rclonewatch.py) → AfterRun (metrics, summary, hooks, pings:
afterrun.py) → Runner (lock, pre-flight, guards, the rclone process). This base declares
the attributes they share; Runner.__init__ sets them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TextIO

from tui.config import Job
from tui.core import remedy
from tui.core.logline import LineParser
from tui.core.runstate import RunState
from tui.ops import safety, watchdog

STATUS_INTERVAL = 5.0
MAX_DELETE_NEEDLE = b"--max-delete threshold reached"


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


class RunnerBase:
    job: Job
    opts: RunOptions
    out: TextIO
    err: TextIO
    run_id: str
    mode: str
    secrets: frozenset[str]
    abort: Abort
    state: RunState
    _proc: asyncio.subprocess.Process | None
    _escalation: asyncio.TimerHandle | None
    _parser: LineParser
    _log_complained: bool  # a log that cannot be written is reported once
    _log_unusable: bool  # the pre-flight said the log cannot be written at all
    _env_file_names: frozenset[str]
    _crashed: bool  # rclone printed a Go stack dump (SIGQUIT or panic)
    _log_full: bool  # the log's file system filled up: rclone's lines were lost
    source: safety.SourceVerdict | None  # the source guards' verdict
    delete_cap: safety.DeleteGuard | None  # the --max-delete we passed
    _safety_fields: dict[str, str]
    _max_delete_hit: bool
    _trip: watchdog.Trip | None  # the watchdog stopped this run
    _remains: str | None  # what an aborted sync left at the destination
    _wall_start: float
    _baseline: safety.Baseline | None  # the summary's baseline before this run
    _errors: remedy.OnceCounter  # each failing file or cause once, whatever the retries
