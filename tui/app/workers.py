"""What the dashboard's thread workers do. Each reads or acts, then posts a message; none
touches a widget. The screen's @work methods call these with its `post_message`."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from textual.message import Message

from tui.app.feed import Feed, make_entry
from tui.app.messages import (
    LogLinesRead,
    ModelEvent,
    PreflightFailed,
    RunLaunched,
    StateUpdated,
    VitalsSampled,
)
from tui.config import Job
from tui.core import dashboard as dm
from tui.core.text import printable

# The process table (psutil), the pre-flight (credentials, dotenv, the guards), the log's
# file system and its follower are looked at once the first frame is painted: each is
# imported by the worker that first needs it, not on the dashboard's start path
# (tests/history/test_gate_bounded.py).
if TYPE_CHECKING:
    from tui.ops.preflight import CheckResult
    from tui.ops.processes import Launched, RunningSync, Vitals

UPDATE_INTERVAL = 0.1  # at most ~10 UI updates a second, whatever the log's pace
POLL_INTERVAL = 0.1
# With no start marker in the log, replay only its tail (a legacy log can be huge).
TAIL_WITHOUT_MARKER = 256 * 1024

Post = Callable[[Message], object]


class Sampler(Protocol):
    def sample(self) -> Vitals | None: ...


@dataclass
class Probes:
    """What the dashboard calls to look at the system (injected in tests)."""

    find_running: Callable[[Job], RunningSync | None]
    make_sampler: Callable[[int], Sampler]
    preflight: Callable[[Job], list[CheckResult]]
    launcher: Callable[[list[str]], Launched]


def default_preflight(job: Job) -> list[CheckResult]:
    from tui.ops import preflight

    results, ctx = preflight.run_checks(job)
    return preflight.redacted(results, ctx.secrets)


def default_find_running(job: Job) -> RunningSync | None:
    from tui.ops import processes

    return processes.find_running(job)


def default_sampler(pid: int) -> Sampler:
    from tui.ops import processes

    return processes.VitalsSampler(pid)


def default_launcher(argv: list[str]) -> Launched:
    from tui.ops import processes

    return processes.start_detached(argv)


def launch_problem(exc: Exception) -> str:
    """What the operator reads when the runner could not be started."""
    if isinstance(exc, OSError):
        return printable(f"could not start the runner: {exc.strerror or exc}")
    return printable(f"could not start the runner: {type(exc).__name__}: {exc}")


def follow_log(job: Job, max_lines: int, stop: threading.Event, post: Post) -> None:
    while not stop.is_set():
        try:
            _follow_once(job, max_lines, stop, post)
        except Exception as exc:  # say so and start over: a stale dashboard misleads
            note = make_entry("note", f"-- reading the log failed ({type(exc).__name__}: "
                                      f"{exc}); starting over --")
            post(LogLinesRead([note]))
            stop.wait(1.0)


def follow_start(path: Path) -> int:
    """Where following a log begins: its last run's start marker, else its tail."""
    from tui.core.follow import last_start_offset

    start = last_start_offset(path)
    if start is None:
        try:
            start = max(0, path.stat().st_size - TAIL_WITHOUT_MARKER)
        except OSError:
            start = 0
    return start


def _follow_once(job: Job, max_lines: int, stop: threading.Event, post: Post) -> None:
    # Imported here, in the worker: the scanner is not on the first frame's path.
    from tui.core.follow import LogFollower
    from tui.core.history.replay import plan_attach

    attach = plan_attach(job.log_file, follow_start(job.log_file))
    feed = Feed(max_lines)
    if attach.body is not None:
        # A long run: its body summed by the scanner, its tail (final stats, end marker)
        # folded line by line on top, so the final figures come at disk speed.
        feed.feed([attach.marker.rstrip(b"\r\n")])
        feed.state = attach.body.add_to(feed.state)
        feed.note(f"{attach.body.lines} earlier lines of this run counted, not shown")
    follower = LogFollower(job.log_file, start=attach.tail, poll_interval=POLL_INTERVAL)
    last_post = 0.0
    caught_up = False
    try:
        while not stop.is_set():
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
                    post(LogLinesRead(entries))
                if caught_up:  # while replaying, the screen says "reading", not a figure
                    post(StateUpdated(feed.state, feed.started_by, caught_up))
                last_post = now
            if not more:
                stop.wait(POLL_INTERVAL)
            else:
                time.sleep(0.002)  # a breath for the UI thread between big batches
    finally:
        follower.close()


def sample_vitals(job: Job, probes: Probes, interval: float, stop: threading.Event,
                  wake: threading.Event, post: Post) -> None:
    from tui.ops import logfile  # this worker starts after the first frame

    sampler: Sampler | None = None
    sampler_pid: int | None = None
    while not stop.is_set():
        try:
            running = probes.find_running(job)
        except Exception:  # a probe that fails must not stop the dashboard
            running = None
        vitals: Vitals | None = None
        pid = None
        if running is not None:
            pid = running.rclone_pid or (running.pid if running.kind == "legacy" else None)
        if pid is not None:
            if sampler is None or sampler_pid != pid:
                try:
                    sampler, sampler_pid = probes.make_sampler(pid), pid
                except Exception:  # the process ended between the probe and now
                    sampler, sampler_pid = None, None
            if sampler is not None:
                vitals = sampler.sample()
        else:
            sampler, sampler_pid = None, None
        # While a sync runs: is the log's file system full (the runner's own test)?
        log_full = running is not None and logfile.file_system_full(job.log_file)
        post(VitalsSampled(running, vitals, log_full))
        wake.wait(interval)
        wake.clear()


def check_and_launch(job: Job, job_args: list[str], dry_run: bool, probes: Probes,
                     stop: threading.Event, wake: threading.Event, post: Post) -> None:
    try:
        launched = _checked_launch(job, job_args, dry_run, probes, stop, post)
    except Exception as exc:  # whatever it was, the dashboard must not wait for good
        post(ModelEvent(dm.LaunchFailed(launch_problem(exc))))
        return
    if launched is None:
        return
    post(RunLaunched(launched, dry_run))
    wake.set()
    reap(launched, stop, wake, post)


def _checked_launch(job: Job, job_args: list[str], dry_run: bool, probes: Probes,
                    stop: threading.Event, post: Post) -> Launched | None:
    """Pre-flight, then the runner; None when nothing may start. Raises what failed."""
    from tui.ops import preflight as preflight_ops
    from tui.ops import processes
    from tui.ops.preflight import CheckResult

    try:
        results = probes.preflight(job)
    except Exception as exc:
        results = [CheckResult("pre-flight", False, f"the checks could not run: {exc}",
                               "run `space-mirror check` in a shell to see why")]
    if preflight_ops.failed(results):
        post(PreflightFailed(results, dry_run))
        return None
    if stop.is_set():
        return None  # the operator quit while the checks ran: start nothing behind their back
    return probes.launcher(processes.runner_argv(job_args, dry_run))


def reap(launched: Launched, stop: threading.Event, wake: threading.Event, post: Post) -> None:
    """Watch (and reap) the runner; its early exit is a refusal worth showing."""
    while True:
        code = launched.finished()
        if code is not None:
            complaint = launched.complaint() if code else ""
            try:
                os.unlink(launched.stderr_path)
            except OSError:
                pass
            post(ModelEvent(dm.RunnerExited(code, complaint)))
            wake.set()
            return
        if stop.wait(0.2):
            return


def send_abort(job: Job, probes: Probes, known: RunningSync | None, wake: threading.Event,
               post: Post) -> None:
    try:
        running = probes.find_running(job) or known
    except Exception as exc:  # psutil races, a lock record of another version …
        # The operator pressed y: say what happened rather than nothing at all.
        post(ModelEvent(dm.AbortSent(f"could not find the sync to abort: {exc}")))
        return
    if running is None:
        post(ModelEvent(dm.AbortSent("nothing to abort: the sync has already ended")))
        return
    from tui.ops import processes

    post(ModelEvent(dm.AbortSent(processes.request_abort(running))))
    wake.set()
