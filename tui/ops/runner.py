"""`space-mirror run`: the whole run, end to end.

lock → pre-flight → start marker → rclone sync (own session, log to file) → end marker
→ metrics → hooks. Every outcome, including a failed pre-flight and an operator's abort,
ends with an end marker in the log, so the log alone tells what happened.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from tui.config import Job
from tui.core import exitcodes, remedy
from tui.core.follow import LogFollower
from tui.core.logline import LineParser
from tui.core.markers import MarkerKind, now
from tui.core.runstate import RunState
from tui.core.units import format_bytes, format_duration
from tui.ops import (
    credentials,
    live_metrics,
    lock,
    logfile,
    metrics,
    partials,
    preflight,
    processes,
    rc,
    rclonecmd,
    safefile,
    safety,
    watchdog,
)
from tui.ops.afterrun import AfterRun
from tui.ops.runbase import Abort, RunOptions

__all__ = ["RunOptions", "Runner", "new_run_id", "run_job", "started_by_default"]

LOCK_RACE_RETRIES = 5
STUCK_LOCK_DEFAULT = 86400.0  # a lock older than this (or max_duration) fails the unit


def new_run_id(clock: Callable[[], float] = time.time) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(clock()))
    return f"{stamp}-{secrets.token_hex(2)}"


def started_by_default(environ: Mapping[str, str]) -> str:
    # systemd sets INVOCATION_ID for every unit it starts: that is the nightly timer.
    return "timer" if environ.get("INVOCATION_ID") else "cli"


class Runner(AfterRun):
    def __init__(self, job: Job, options: RunOptions, out: TextIO | None = None,
                 err: TextIO | None = None) -> None:
        self.job = job
        self.opts = options
        # Looked up now, not when the module was loaded: contextlib.redirect_stdout works.
        self.out = out if out is not None else sys.stdout
        self.err = err if err is not None else sys.stderr
        self.run_id = new_run_id()
        self.mode = "dry-run" if options.dry_run else "sync"
        self.secrets: frozenset[str] = frozenset()
        self.abort = Abort()
        self.state = RunState()
        self._proc: asyncio.subprocess.Process | None = None
        self._escalation: asyncio.TimerHandle | None = None
        self._parser = LineParser()
        self._log_complained = False  # a log that cannot be written is reported once
        self._log_unusable = False  # the pre-flight said the log cannot be written at all
        self._env_file_names: frozenset[str] = frozenset()
        self._crashed = False  # rclone printed a Go stack dump (SIGQUIT or panic)
        self._log_full = False  # the log's file system filled up: rclone's lines were lost
        # Safety guards (tui/ops/safety.py): what they found, and the --max-delete we passed.
        self.source: safety.SourceVerdict | None = None
        self.delete_cap: safety.DeleteGuard | None = None
        self._safety_fields: dict[str, str] = {}
        self._max_delete_hit = False
        self._trip: watchdog.Trip | None = None  # the watchdog stopped this run
        self._remains: str | None = None  # what an aborted sync left at the destination
        self._wall_start = time.monotonic()
        # The summary's baseline as it was before this run (this run's own in-progress mark
        # must not count itself as an earlier interruption).
        self._baseline: safety.Baseline | None = None
        # Each failing file or cause once, whatever rclone's retries: the end marker's reason.
        self._errors = remedy.OnceCounter()






    # -- the run --------------------------------------------------------------------------
    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, self._on_signal, sig)
        try:
            return await self._run_locked()
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                loop.remove_signal_handler(sig)

    async def _run_locked(self) -> int:
        started = now()
        record = lock.LockRecord(
            pid=os.getpid(), pid_start=processes.create_time(os.getpid()),
            run_id=self.run_id, job=self.job.name, mode=self.mode,
            log=str(self.job.log_file), started=started.isoformat(timespec="seconds"),
            started_by=self.opts.started_by,
        )
        held: lock.HeldLock | None = None
        try:
            for _ in range(LOCK_RACE_RETRIES):
                got = lock.try_acquire(self.job.lock_path, record,
                                       folder_lock=self.job.lock_file is None)
                if isinstance(got, lock.HeldLock):
                    held = got
                    break
                if got is not None:
                    break
                await asyncio.sleep(0.05)  # the holder ended between our two looks; try again
        except lock.LockError as exc:
            self.complain(f"{exc}; fix: run as root, or set run_dir to a folder only you can "
                          "write")
            return exitcodes.CONFIG
        if held is None:
            return self._locked_out()
        metrics.clear_lock_metrics(self.job.metrics_path)
        try:
            return await self._run_with_lock(held, started.timestamp())
        finally:
            held.release()

    def _locked_out(self) -> int:
        """Another holder: exit 75, unless the holder is no runner of this job or has held
        the lock longer than a run may take; those are logged, put in the metrics, and a
        stuck lock fails the unit (exit 69) instead of passing as "already running"."""
        holder = lock.inspect(self.job.lock_path)
        age = max(0.0, time.time() - holder.since) if holder and holder.since else 0.0
        limit = self.job.max_duration or STUCK_LOCK_DEFAULT
        foreign = holder is None or holder.problem is not None
        who = holder.describe() if holder else "holder unknown: the lock folder is held"
        stuck = age > limit
        if not (foreign or stuck):
            self.complain(f"a sync of job {self.job.name!r} is already running ({who}); "
                          "not starting another")
            return exitcodes.LOCKED
        stamp = now().isoformat(timespec="seconds")
        what = (f"lock {self.job.lock_path} held for {format_duration(age)} ({who})"
                + (f", longer than the job's maximum duration {format_duration(limit)}"
                   if stuck else ""))
        self.complain(f"{what}; not starting; fix: `space-mirror check` names the holder")
        self._append_log(f"[{stamp}] space-mirror lock: {what}", fresh_line=True)
        for warning in metrics.write_lock_metrics(self.job.metrics_path, self.job.name, age,
                                                  foreign, stuck):
            self.complain(f"warning: {warning}")
        return exitcodes.UNAVAILABLE if stuck else exitcodes.LOCKED

    async def _run_with_lock(self, held: lock.HeldLock, started_ts: float) -> int:
        await self._ping("start")
        results, ctx = await asyncio.to_thread(
            preflight.run_checks, self.job, self.opts.offline, True)
        self.secrets = ctx.secrets
        self._env_file_names = ctx.env_file_names
        bad = preflight.failed(results)
        if self.abort.requested_by:
            self.complain(f"stopped by {self.abort.requested_by} before rclone started")
            return exitcodes.signal_exit_code(_signum(self.abort.requested_by))
        if bad:
            for r in preflight.causes(results):
                self.complain(r.line())
            # A failed log check has just said why the log cannot be written: no echo of it.
            self._log_complained = self._log_unusable = any(r.name == "log" for r in bad)
            why = "pre-flight: " + "; ".join(f"{r.name}: {r.detail}"
                                             for r in preflight.causes(results))
            self._write_start_marker()
            self._write_end_marker(MarkerKind.FAILED, exitcodes.CONFIG, why)
            await self._after_run(exitcodes.CONFIG, "failed", why, started_ts)
            return exitcodes.CONFIG
        assert ctx.rclone is not None and ctx.env is not None
        refusal = await self._check_safety(ctx.rclone, ctx.env)
        if self.abort.requested_by:  # stopped while the source was counted: start nothing
            self.complain(f"stopped by {self.abort.requested_by} before rclone started")
            return exitcodes.signal_exit_code(_signum(self.abort.requested_by))
        if refusal is not None:
            self._write_start_marker()
            self._write_end_marker(MarkerKind.FAILED, exitcodes.CONFIG, refusal)
            await self._after_run(exitcodes.CONFIG, "failed", refusal, started_ts)
            return exitcodes.CONFIG
        # A real sync always gets the delete guard as --max-delete. A dry run deletes
        # nothing, and a cap would cut its list of deletes short, so it gets only an
        # explicit --allow-deletes (as before).
        max_delete = self.delete_cap.limit if self.delete_cap else self.opts.max_delete
        rc_socket, rc_off = await asyncio.to_thread(rc.prepare_socket, self.job)
        if rc_off is not None:
            self.complain(f"warning: live bandwidth control is off for this run: {rc_off}")
        argv = rclonecmd.sync_command(ctx.rclone, self.job, self.opts.dry_run, max_delete,
                                      rc_socket)
        argv += watchdog.window_flags(self.job, now())
        offset = self._log_size()
        logfile.reserve_room(self.job.log_file)  # first: the end marker's room
        self._write_start_marker()
        if not self.opts.dry_run and self._baseline is not None:
            warning = await asyncio.to_thread(
                safety.presume_interrupted, self.job, self._baseline, self.run_id,
                self.source.source_files if self.source else None)
            if warning:
                self.complain(f"warning: {warning}")
        if self.mode == "sync":
            self._metrics_in_progress(started_ts)
        env = {**ctx.env, "SPACE_MIRROR_RUN_ID": self.run_id}  # abort checks rclone's identity
        code, reason, kind = await self._run_rclone(argv, env, held, offset)
        rc.remove_socket(rc_socket)
        self._note_log_full()
        self._write_end_marker(kind, code, reason)
        outcomes = {MarkerKind.COMPLETE: "success", MarkerKind.ABORTED: "aborted"}
        outcome = outcomes.get(kind, "failed")
        self.say(f"space-mirror: run {self.run_id} {outcome} (exit {code}): "
                 f"{format_bytes(self.state.bytes)}, {self.state.transfers} transferred, "
                 f"{self.state.deletes} deleted, {self.state.renames} renamed, "
                 f"{self.state.errors} errors, {format_duration(self.state.elapsed)}"
                 + (f" — {reason}" if reason else "")
                 + (" (counts incomplete: the log's file system filled up and rclone's "
                    "last lines were lost)" if self._log_full else ""))
        await self._after_run(code, outcome, reason, started_ts)
        return code

    async def _check_safety(self, rclone: Path, env: dict[str, str]) -> str | None:
        """Source sanity guards, then the delete guard; the refusal's reason, or None."""
        baseline = await asyncio.to_thread(safety.read_baseline, self.job.summary_path,
                                           self.job)
        self._baseline = baseline
        verdict = await asyncio.to_thread(safety.check_source, self.job, self.opts.force,
                                          baseline)
        self.source = verdict
        if self.opts.force:
            # Name what --force overrode (or `none`): the log keeps the operator's decision.
            self._safety_fields["forced"] = verdict.forced_field()
        for g in verdict.overridden:
            self.complain(f"warning: --force overrides the {g.name} guard: {g.detail}")
        if not verdict.ok:
            for g in verdict.refused:
                self.complain(g.line())
            return "source guard: " + "; ".join(f"{g.name}: {g.detail}" for g in verdict.refused)
        if not self.opts.dry_run:
            dest = await asyncio.to_thread(safety.destination_files, self.job, baseline,
                                           rclone, env)
            self.delete_cap = safety.delete_guard(self.job, dest, self.opts.max_delete,
                                                  baseline.interrupted)
            self._safety_fields["max_delete"] = str(self.delete_cap.limit)
        return None

    async def _run_rclone(
        self, argv: list[str], env: dict[str, str], held: lock.HeldLock, offset: int
    ) -> tuple[int, str | None, MarkerKind]:
        self.say(f"space-mirror: run {self.run_id} started ({self.mode} {self.job.source} → "
                 f"{credentials.display_remote(self.job.destination)})")
        # rclone's own stdout/stderr (messages before it opens --log-file) go to the log too,
        # never to a pipe: a pipe whose reader dies kills the writer with SIGPIPE.
        try:
            log_fd = safefile.append_fd(self.job.log_file)
        except OSError as exc:  # after the start marker: this run still gets its end marker
            return (exitcodes.CONFIG, f"cannot open the log for rclone: {exc.strerror}",
                    MarkerKind.FAILED)
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *argv, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=log_fd, stderr=log_fd,
                start_new_session=True, pass_fds=held.fds,
            )
        except OSError as exc:
            os.close(log_fd)
            return exitcodes.CONFIG, f"rclone could not start: {exc.strerror}", MarkerKind.FAILED
        os.close(log_fd)
        proc = self._proc
        try:
            held.update(replace(held.record, rclone_pid=proc.pid,
                                rclone_start=processes.create_time(proc.pid)))
        except OSError as exc:  # the lock is still held; only its record is stale
            self.complain(f"warning: cannot update the lock record: {exc.strerror}")
        if self.abort.requested_by:
            self._terminate()
        # Follow the file rclone writes to, not the name: after a rename rotation rclone
        # keeps writing into the renamed file, and its final stats are our end counters.
        follower = LogFollower(self.job.log_file, start=offset, poll_interval=0.5,
                               follow_name=False)
        watcher = asyncio.create_task(self._watch(follower))
        dog = asyncio.create_task(self._watchdog())
        live = asyncio.create_task(live_metrics.LiveMetrics(
            self.job, lambda: self.state, argv[0]).publish(self.complain, self.mode))
        try:
            returncode = await proc.wait()
        finally:
            dog.cancel()
            live.cancel()
            if self._escalation is not None:
                self._escalation.cancel()
            follower.stop()
            await watcher
        self._drain(follower)
        code = returncode if returncode >= 0 else exitcodes.signal_exit_code(-returncode)
        if code != 0 and (self._trip or self.abort.requested_by or code > 128):
            found = await asyncio.to_thread(partials.count, self.job, argv[0], env,
                                            min(self.job.remote_timeout, 10.0))
            self._remains = partials.remains_text(found)
        if self._trip is not None and code != 0:
            code = self._trip.code
        return (code, *self._verdict(code))

















def _signum(name: str) -> int:
    return int(signal.Signals[name])



def run_job(job: Job, options: RunOptions) -> int:
    """Entry point for the CLI."""
    return asyncio.run(Runner(job, options).run())
