"""Processes: start the runner detached, find the sync that is running, signal it, and
sample rclone's vital signs.

The dashboard never owns rclone. It starts `space-mirror run` in a new session with no pipe
back to itself, so closing the SSH connection (SIGHUP, SIGPIPE) cannot touch the sync.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psutil

from tui.config import Job
from tui.core.text import printable
from tui.ops import lock


@dataclass(frozen=True)
class RunningSync:
    """A sync that is running now, whoever started it."""

    kind: str  # "runner" (our runner: timer, CLI or dashboard) | "legacy" (the old wrapper)
    pid: int  # the process to signal for an abort: our runner, or the legacy rclone
    rclone_pid: int | None
    run_id: str | None
    started: str | None
    mode: str  # "sync" | "dry-run" | "?"
    started_by: str  # "dashboard" | "cli" | "timer" | "legacy wrapper"
    # The lock's record, to check a pid's identity before signalling it; and why the lock
    # is not believed (a file another user made or can write), when it is not.
    record: lock.LockRecord | None = None
    distrust: str | None = None
    # A legacy rclone's start time when it was proven ours: checked again before a signal.
    legacy_start: float | None = None


@dataclass
class Launched:
    """A runner the dashboard started; `stderr_path` holds its complaints, if any."""

    process: subprocess.Popen[bytes]
    stderr_path: Path

    def finished(self) -> int | None:
        return self.process.poll()

    def complaint(self) -> str:
        try:
            text = self.stderr_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        lines = [ln for ln in text.splitlines() if ln.strip()]
        return lines[-1] if lines else ""


def runner_argv(job_args: list[str], dry_run: bool, extra: list[str] | None = None) -> list[str]:
    argv = [sys.executable, "-m", "tui", "run", *job_args, "--started-by", "dashboard"]
    if dry_run:
        argv.append("--dry-run")
    return argv + (extra or [])


ERR_PREFIX = "space-mirror-run-"
STALE_ERR_AGE = 86400.0


def start_detached(argv: list[str], env: dict[str, str] | None = None) -> Launched:
    """Start `argv` in its own session, stdin from /dev/null, output to a private file."""
    _remove_stale_err_files()
    fd, name = tempfile.mkstemp(prefix=ERR_PREFIX, suffix=".err")
    try:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=fd, stderr=fd, start_new_session=True,
            close_fds=True, env=env,
        )
    finally:
        os.close(fd)
    return Launched(proc, Path(name))


def _remove_stale_err_files(now: float | None = None) -> None:
    """The dashboard deletes a runner's error file when it reaps the runner; a runner it left
    running (quit, "leave it running") keeps its file. Sweep those after a day."""
    cutoff = (time.time() if now is None else now) - STALE_ERR_AGE
    folder = Path(tempfile.gettempdir())
    for path in folder.glob(f"{ERR_PREFIX}*.err"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            continue


def find_running(job: Job) -> RunningSync | None:
    """The lock tells about our runners; psutil finds a legacy wrapper's rclone."""
    seen = lock.inspect(job.lock_path)
    if seen is not None and (seen.problem is not None or seen.record is None):
        # Held, but by no runner we can believe: shown, never signalled.
        return RunningSync("runner", 0, None, "?", "?", "?", "?", None,
                           f"{seen.describe()} (lock {job.lock_path})")
    holder = seen.record if seen is not None else None
    if holder is not None:
        # A plan's holder is the planning process (a dashboard, or `space-mirror plan`):
        # stopping the dry run means signalling its rclone, never the planner itself.
        planning = holder.run_id.startswith("plan-")
        if planning:
            target = holder.rclone_pid or 0  # 0: not started yet, nothing to signal
        elif _alive(holder.pid):
            target = holder.pid  # our runner forwards, escalates and writes the end marker
        else:
            target = holder.rclone_pid or holder.pid  # the runner was killed; rclone runs on
        return RunningSync(
            kind="runner",
            pid=target,
            rclone_pid=holder.rclone_pid,
            run_id=holder.run_id,
            started=holder.started,
            mode=holder.mode,
            started_by=holder.started_by,
            record=holder,
        )
    legacy = find_legacy_rclone(job)
    if legacy is not None:
        created = legacy.create_time()
        started = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(created))
        return RunningSync("legacy", legacy.pid, legacy.pid, None, started,
                           "dry-run" if _has_dry_run(legacy) else "sync", "legacy wrapper",
                           legacy_start=created)
    return None


@dataclass(frozen=True)
class OtherRclone:
    """A process that looks like an rclone sync of this job but is not provably ours: shown,
    never signalled, never taken for a running sync."""

    pid: int
    user: str
    command: str

    def describe(self) -> str:
        return (f"another rclone is running (pid {self.pid}, user {self.user}, command "
                f"{self.command}); it is not this job's sync and is never signalled")


def _candidates(job: Job) -> list[tuple[psutil.Process, list[str]]]:
    """Processes whose command line reads like `rclone sync SOURCE DEST …` for this job."""
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        try:
            cmd = proc.info.get("cmdline") or []
            if not cmd or "rclone" not in os.path.basename(cmd[0]):
                continue
            if "sync" in cmd and job.source in cmd and job.destination in cmd:
                found.append((proc, list(cmd)))
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def legacy_problem(proc: psutil.Process, cmd: list[str], job: Job) -> str | None:
    """Why `proc` is not provably the old wrapper's rclone of this job, or None. It must run
    as root, its executable must be a real rclone (the one this job would run, or a
    root-owned `rclone` in root-owned folders), and its arguments must be `sync SOURCE DEST`
    of this job. A name in argv proves nothing: `exec -a rclone` sets any."""
    try:
        uids = proc.uids()
        exe = proc.exe()
    except psutil.Error as exc:
        return f"cannot be inspected ({exc.__class__.__name__})"
    if (uids.real, uids.effective) != (0, 0):
        return f"runs as uid {uids.effective}, not root"
    if not exe or not os.path.isabs(exe):
        return "its executable cannot be read"
    if not _is_our_rclone(exe, job):
        return f"its executable {exe} is not an rclone binary root owns"
    try:
        at = cmd.index("sync")
    except ValueError:
        return "is not an rclone sync"
    if cmd[at + 1:at + 3] != [job.source, job.destination]:
        return "its arguments are not this job's source and destination"
    return None


def _is_our_rclone(exe: str, job: Job) -> bool:
    from tui.ops import rclonecmd, trust

    ours = rclonecmd.resolve_rclone(job.rclone)
    if ours is not None and os.path.realpath(ours) == exe:
        return True
    if os.path.basename(exe) != "rclone":
        return False
    try:  # owned by root, in folders only root can write (a uid-0 view of trust's rules)
        os.close(trust.open_checked(exe, "rclone", uid=0))
    except (trust.Untrusted, OSError):
        return False
    return True


def find_legacy_rclone(job: Job) -> psutil.Process | None:
    """The old wrapper's `rclone sync SOURCE DEST`, proven (see legacy_problem)."""
    for proc, cmd in _candidates(job):
        if legacy_problem(proc, cmd, job) is None:
            return proc
    return None


def other_rclones(job: Job) -> list[OtherRclone]:
    """The look-alikes that are not provably ours (for `check` to name)."""
    found = []
    for proc, cmd in _candidates(job):
        if legacy_problem(proc, cmd, job) is None:
            continue
        try:
            user = proc.username()
        except (psutil.Error, KeyError):
            user = "?"
        found.append(OtherRclone(proc.pid, printable(user), printable(_short(cmd))))
    return found


def _has_dry_run(proc: psutil.Process) -> bool:
    try:
        return "--dry-run" in proc.cmdline()
    except psutil.Error:
        return False


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        p = psutil.Process(pid)
        return p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def create_time(pid: int) -> float | None:
    try:
        return float(psutil.Process(pid).create_time())
    except psutil.Error:
        return None


START_SLACK = 2.0  # seconds: a record's start (whole seconds) vs the process's start


def identity_problem(pid: int, record: lock.LockRecord) -> str | None:
    """Why `pid` is not the runner or the rclone that `record` describes, or None.

    The runner: its start time is the recorded one (or, from an older record, no later than
    the run's start) and its command line is `… tui run …` or `space-mirror … run`. rclone:
    its start time is the recorded one, its command line is `rclone sync`, and its
    environment carries the lock's run id (readable to root)."""
    try:
        proc = psutil.Process(pid)
        started = proc.create_time()
        cmd = proc.cmdline()
    except psutil.NoSuchProcess:
        return None  # gone: the caller's ProcessLookupError path says so
    except psutil.Error as exc:
        return f"pid {pid} cannot be inspected ({exc.__class__.__name__})"
    is_rclone = pid == record.rclone_pid and pid != record.pid
    expected = record.rclone_start if is_rclone else record.pid_start
    if expected is not None:
        if abs(started - expected) > 0.05:
            return f"pid {pid} started at another time than the lock says (a reused pid)"
    else:
        try:
            run_start = datetime.fromisoformat(record.started).timestamp()
        except ValueError:
            return f"pid {pid}: the lock's start time {record.started!r} is not a time"
        if (started > run_start + START_SLACK) if not is_rclone else \
                (started < run_start - START_SLACK):
            return f"pid {pid} started at another time than the lock's run"
    if is_rclone:
        if not cmd or "rclone" not in os.path.basename(cmd[0]) or "sync" not in cmd:
            return f"pid {pid} is not an rclone sync ({_short(cmd)})"
        try:
            run_id = proc.environ().get("SPACE_MIRROR_RUN_ID")
        except psutil.Error:
            run_id = None
        if run_id is not None and run_id != record.run_id:
            return f"pid {pid} is the rclone of run {run_id}, not of {record.run_id}"
        return None
    joined = " ".join(cmd)
    if not (("tui" in joined and " run" in joined) or
            (any(os.path.basename(c) == "space-mirror" for c in cmd[:2]) and "run" in cmd)
            or (record.run_id.startswith("plan-") and ("plan" in cmd or "tui" in joined))):
        return f"pid {pid} is not a space-mirror runner ({_short(cmd)})"
    return None


def _short(cmd: list[str]) -> str:
    text = " ".join(cmd) or "no command line"
    return text if len(text) <= 60 else text[:59] + "…"


def request_abort(running: RunningSync) -> str | None:
    """SIGTERM to the runner (which forwards it, escalates and writes the end marker), or to
    rclone when no runner is there, after checking that the pid is really that process.
    Returns a problem (said on screen), or None when the signal was sent."""
    if running.distrust:
        return f"not signalling anything: {running.distrust}"
    target = running.pid
    if running.kind == "legacy" and (running.legacy_start is None
                                     or create_time(target) != running.legacy_start):
        return (f"not signalling: pid {target} is no longer the rclone that was found "
                "(it ended, and its pid may be another process's)")
    if running.record is not None and target > 0:
        problem = identity_problem(target, running.record)
        if problem:
            return f"not signalling: {problem}; the lock record does not describe it"
    if target <= 0:
        # An unreadable lock record: os.kill(0, …) would signal our own process group.
        return "cannot tell which process runs the sync (unreadable lock record); try again"
    try:
        os.kill(target, signal.SIGTERM)
    except ProcessLookupError:
        if running.rclone_pid and running.rclone_pid != target:
            if running.record is not None and identity_problem(running.rclone_pid,
                                                               running.record):
                return "the sync has already ended"
            try:
                os.kill(running.rclone_pid, signal.SIGTERM)
                return None
            except ProcessLookupError:
                pass
        return "the sync has already ended"
    except PermissionError:
        return f"not allowed to signal pid {target}: run the dashboard as the same user (root)"
    return None


@dataclass(frozen=True)
class Vitals:
    pid: int
    cpu_percent: float
    rss: int
    read_bps: float | None
    write_bps: float | None


class VitalsSampler:
    """CPU, memory and I/O rates of one process; rates come from the last two samples."""

    def __init__(self, pid: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.pid = pid
        self._clock = clock
        self._proc = psutil.Process(pid)
        self._proc.cpu_percent(None)  # the first call only primes the counter
        self._last_io: tuple[float, int, int] | None = None

    def sample(self) -> Vitals | None:
        try:
            with self._proc.oneshot():
                cpu = self._proc.cpu_percent(None)
                rss = self._proc.memory_info().rss
                try:
                    io = self._proc.io_counters()
                    io_now: tuple[float, int, int] | None = (self._clock(), io.read_bytes,
                                                             io.write_bytes)
                except (psutil.AccessDenied, AttributeError):
                    io_now = None
        except psutil.Error:
            return None
        read_bps = write_bps = None
        if io_now is not None and self._last_io is not None:
            dt = io_now[0] - self._last_io[0]
            if dt > 0:
                read_bps = (io_now[1] - self._last_io[1]) / dt
                write_bps = (io_now[2] - self._last_io[2]) / dt
        self._last_io = io_now
        return Vitals(self.pid, cpu, rss, read_bps, write_bps)
