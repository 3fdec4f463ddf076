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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TextIO

from tui.config import Job
from tui.core import exitcodes
from tui.core.follow import LogFollower
from tui.core.logline import Event, LineParser, decode
from tui.core.markers import MarkerKind, format_end, format_start, now
from tui.core.runstate import RunState, apply, apply_all
from tui.core.units import format_bytes, format_duration
from tui.ops import credentials, lock, metrics, notify, preflight, rc, rclonecmd, safety

STATUS_INTERVAL = 5.0
MAX_DELETE_NEEDLE = b"--max-delete threshold reached"
LOCK_RACE_RETRIES = 5


@dataclass
class RunOptions:
    dry_run: bool = False
    offline: bool = False  # skip the destination check (tests, or a known-good remote)
    started_by: str = "cli"
    force: bool = False
    extra_start_fields: dict[str, str] = field(default_factory=dict)
    max_delete: int | None = None


@dataclass
class _Abort:
    requested_by: str | None = None  # the signal name that asked us to stop
    count: int = 0


def new_run_id(clock: Callable[[], float] = time.time) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(clock()))
    return f"{stamp}-{secrets.token_hex(2)}"


def started_by_default(environ: Mapping[str, str]) -> str:
    # systemd sets INVOCATION_ID for every unit it starts: that is the nightly timer.
    return "timer" if environ.get("INVOCATION_ID") else "cli"


class Runner:
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
        self.abort = _Abort()
        self.state = RunState()
        self._proc: asyncio.subprocess.Process | None = None
        self._escalation: asyncio.TimerHandle | None = None
        self._parser = LineParser()
        self._log_complained = False  # a log that cannot be written is reported once
        # Safety guards (tui/ops/safety.py): what they found, and the --max-delete we passed.
        self.source: safety.SourceVerdict | None = None
        self.delete_cap: safety.DeleteGuard | None = None
        self._safety_fields: dict[str, str] = {}
        self._max_delete_hit = False
        # The summary's baseline as it was before this run (this run's own in-progress mark
        # must not count itself as an earlier interruption).
        self._baseline: safety.Baseline | None = None

    # -- output ---------------------------------------------------------------------------
    def say(self, text: str) -> None:
        print(credentials.redact(text, self.secrets), file=self.out, flush=True)

    def complain(self, text: str) -> None:
        print(credentials.redact(f"space-mirror: {text}", self.secrets), file=self.err, flush=True)

    def _append_log(self, line: str) -> bool:
        data = (credentials.redact(line, self.secrets) + "\n").encode("utf-8", "replace")
        try:
            fd = os.open(self.job.log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC,
                         0o640)
        except OSError as exc:
            self._log_write_failed(exc)
            return False
        try:
            os.write(fd, data)
        except OSError as exc:  # a full disk must not cost the run its exit code
            self._log_write_failed(exc)
            return False
        finally:
            os.close(fd)
        return True

    def _log_write_failed(self, exc: OSError) -> None:
        # Said once: the start and end markers would otherwise repeat the same complaint.
        # Later writes are still tried (a full disk may have room again by the end marker).
        if not self._log_complained:
            self._log_complained = True
            self.complain(f"cannot write to log {self.job.log_file}: {exc.strerror}")

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
            pid=os.getpid(), run_id=self.run_id, job=self.job.name, mode=self.mode,
            log=str(self.job.log_file), started=started.isoformat(timespec="seconds"),
            started_by=self.opts.started_by,
        )
        held: lock.HeldLock | None = None
        holder: lock.LockRecord | None = None
        try:
            for _ in range(LOCK_RACE_RETRIES):
                got = lock.try_acquire(self.job.lock_path, record)
                if isinstance(got, lock.HeldLock):
                    held = got
                    break
                holder = got
                if holder is not None:
                    break
                await asyncio.sleep(0.05)  # the holder ended between our two looks; try again
        except lock.LockError as exc:
            self.complain(f"{exc}; fix: set lock_file to a writable place")
            return exitcodes.CONFIG
        if held is None:
            who = (f"pid {holder.pid}, run {holder.run_id}, started {holder.started}"
                   if holder else "holder unknown")
            self.complain(f"a sync of job {self.job.name!r} is already running ({who}); "
                          "not starting another")
            return exitcodes.LOCKED
        try:
            return await self._run_with_lock(held, started.timestamp())
        finally:
            held.release()

    async def _run_with_lock(self, held: lock.HeldLock, started_ts: float) -> int:
        results, ctx = await asyncio.to_thread(
            preflight.run_checks, self.job, self.opts.offline, True)
        self.secrets = ctx.secrets
        bad = preflight.failed(results)
        if self.abort.requested_by:
            self.complain(f"stopped by {self.abort.requested_by} before rclone started")
            return exitcodes.signal_exit_code(_signum(self.abort.requested_by))
        if bad:
            for r in preflight.causes(results):
                self.complain(r.line())
            # A failed log check has just said why the log cannot be written: no echo of it.
            self._log_complained = any(r.name == "log" for r in bad)
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
        offset = self._log_size()
        self._write_start_marker()
        if not self.opts.dry_run and self._baseline is not None:
            warning = await asyncio.to_thread(
                safety.presume_interrupted, self.job, self._baseline, self.run_id,
                self.source.source_files if self.source else None)
            if warning:
                self.complain(f"warning: {warning}")
        code, reason, kind = await self._run_rclone(argv, ctx.env, held, offset)
        rc.remove_socket(rc_socket)
        self._write_end_marker(kind, code, reason)
        outcomes = {MarkerKind.COMPLETE: "success", MarkerKind.ABORTED: "aborted"}
        outcome = outcomes.get(kind, "failed")
        self.say(f"space-mirror: run {self.run_id} {outcome} (exit {code}): "
                 f"{format_bytes(self.state.bytes)}, {self.state.transfers} transferred, "
                 f"{self.state.deletes} deleted, {self.state.renames} renamed, "
                 f"{self.state.errors} errors, {format_duration(self.state.elapsed)}"
                 + (f" — {reason}" if reason else ""))
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

    def _write_start_marker(self) -> None:
        extra = {"by": self.opts.started_by, **self.opts.extra_start_fields,
                 **self._safety_fields}
        line = format_start(self.run_id, self.job.name, self.mode, os.getpid(), now(), extra)
        self._append_log(line)

    def _write_end_marker(self, kind: MarkerKind, code: int, reason: str | None) -> None:
        self._append_log(format_end(kind, self.run_id, code, now(), self.state.counters(), reason))

    def _log_size(self) -> int:
        try:
            return os.stat(self.job.log_file).st_size
        except OSError:
            return 0

    async def _run_rclone(
        self, argv: list[str], env: dict[str, str], held: lock.HeldLock, offset: int
    ) -> tuple[int, str | None, MarkerKind]:
        self.say(f"space-mirror: run {self.run_id} started ({self.mode} {self.job.source} → "
                 f"{credentials.display_remote(self.job.destination)})")
        # rclone's own stdout/stderr (messages before it opens --log-file) go to the log too,
        # never to a pipe: a pipe whose reader dies kills the writer with SIGPIPE.
        try:
            log_fd = os.open(self.job.log_file,
                             os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        except OSError as exc:  # after the start marker: this run still gets its end marker
            return (exitcodes.CONFIG, f"cannot open the log for rclone: {exc.strerror}",
                    MarkerKind.FAILED)
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *argv, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=log_fd, stderr=log_fd,
                start_new_session=True, pass_fds=(held.fd,),
            )
        except OSError as exc:
            os.close(log_fd)
            return exitcodes.CONFIG, f"rclone could not start: {exc.strerror}", MarkerKind.FAILED
        os.close(log_fd)
        proc = self._proc
        try:
            held.update(_with_rclone_pid(held.record, proc.pid))
        except OSError as exc:  # the lock is still held; only its record is stale
            self.complain(f"warning: cannot update the lock record: {exc.strerror}")
        if self.abort.requested_by:
            self._terminate()
        # Follow the file rclone writes to, not the name: after a rename rotation rclone
        # keeps writing into the renamed file, and its final stats are our end counters.
        follower = LogFollower(self.job.log_file, start=offset, poll_interval=0.5,
                               follow_name=False)
        watcher = asyncio.create_task(self._watch(follower))
        try:
            returncode = await proc.wait()
        finally:
            if self._escalation is not None:
                self._escalation.cancel()
            follower.stop()
            await watcher
        self._drain(follower)
        code = returncode if returncode >= 0 else exitcodes.signal_exit_code(-returncode)
        return (code, *self._verdict(code))

    def _verdict(self, code: int) -> tuple[str | None, MarkerKind]:
        if code == 0:
            # rclone finished before a late signal could stop it: the sync is complete.
            return None, MarkerKind.COMPLETE
        if self.abort.requested_by:
            return (f"aborted by operator ({self.abort.requested_by}); rclone stopped and "
                    "removed its partial files: what it had synced stays, the rest waits for "
                    "the next run", MarkerKind.ABORTED)
        if exitcodes.is_abort(code):
            return f"rclone was stopped by {signal.Signals(code - 128).name}", MarkerKind.ABORTED
        cap = self.delete_cap.limit if self.delete_cap else self.opts.max_delete
        # rclone 1.75.2 logs `Got fatal error on delete: --max-delete threshold reached` (ERROR)
        # for each delete past the cap, then exits 7 having deleted exactly the cap.
        if code == 7 and cap is not None and self._max_delete_hit:
            return (f"max-delete guard reached, {self.state.deletes} of {cap} deletes allowed "
                    "(the sync wanted more); check the source, see `space-mirror plan`, and "
                    "allow them with `space-mirror run --allow-deletes N`", MarkerKind.FAILED)
        last_error = self.state.recent_errors[-1] if self.state.recent_errors else None
        meaning = exitcodes.meaning(code).meaning
        return (f"{meaning} Last error: {last_error}" if last_error else meaning), MarkerKind.FAILED

    def _consume(self, lines: list[bytes]) -> None:
        events: list[Event] = []
        for raw in lines:
            if MAX_DELETE_NEEDLE in raw:
                self._max_delete_hit = True
            events.extend(self._parser.feed(decode(raw)))
        self.state = apply_all(self.state, events)

    async def _watch(self, follower: LogFollower) -> None:
        last_status = 0.0
        async for batch in follower.batches():
            self._consume(batch.lines)
            if time.monotonic() - last_status >= STATUS_INTERVAL:
                last_status = time.monotonic()
                notify.sd_notify(f"STATUS={self.status_line()}")

    def _drain(self, follower: LogFollower) -> None:
        # rclone has exited: read what it wrote after our last poll, up to the end of file.
        batch = follower.poll()
        while batch.lines:
            self._consume(batch.lines)
            batch = follower.poll()
        for event in self._parser.flush():
            self.state = apply(self.state, event)
        follower.close()

    def status_line(self) -> str:
        s = self.state.stats
        if s is None:
            return f"{self.mode}: starting"
        pct = f" ({s.percent:.0f}%)" if s.percent is not None else ""
        eta = f", ETA {format_duration(s.eta)}" if s.eta is not None else ""
        return (f"{self.mode}: {format_bytes(s.bytes)} / {format_bytes(s.total_bytes)}{pct}, "
                f"{s.transfers}/{s.total_transfers} files, {s.deletes} deleted, "
                f"{s.errors} errors{eta}")

    # -- signals --------------------------------------------------------------------------
    def _on_signal(self, sig: signal.Signals) -> None:
        self.abort.count += 1
        if self.abort.requested_by is None:
            self.abort.requested_by = sig.name
        if self.abort.count > 1:
            self._kill()  # asked twice: stop waiting for a graceful end
            return
        self._terminate()

    def _terminate(self) -> None:
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return
        try:
            proc.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            return
        loop = asyncio.get_running_loop()
        self._escalation = loop.call_later(self.job.abort_grace, self._kill)

    def _kill(self) -> None:
        proc = self._proc
        if proc is not None and proc.returncode is None:
            try:
                proc.kill()
            except ProcessLookupError:
                pass

    # -- after the run --------------------------------------------------------------------
    async def _after_run(self, code: int, outcome: str, reason: str | None,
                         started_ts: float) -> None:
        summary = metrics.RunSummary(
            job=self.job.name, run_id=self.run_id, mode=self.mode, started=started_ts,
            ended=time.time(), exit_code=code, outcome=outcome,
            reason=credentials.redact(reason, self.secrets) if reason else None,
            bytes=self.state.bytes, transfers=self.state.transfers, checks=self.state.checks,
            deletes=self.state.deletes, renames=self.state.renames, errors=self.state.errors,
            extra=safety.summary_fields(
                self._baseline or safety.read_baseline(self.job.summary_path, self.job),
                self.run_id, outcome == "success" and self.mode == "sync",
                self.source.source_files if self.source else None,
                interrupted=self.mode == "sync" and self._proc is not None
                and outcome != "success", job=self.job),
        )
        for warning in metrics.write_metrics(self.job.metrics_path, self.job.summary_path, summary):
            self.complain(f"warning: {warning}")
        notify.sd_notify(f"STATUS=last run {outcome} (exit {code})")
        hook = self.job.on_success if outcome == "success" else self.job.on_failure
        if not hook:
            return
        facts = {f"SPACE_MIRROR_{k.upper()}": "" if v is None else str(v)
                 for k, v in summary.as_dict().items()}
        facts["SPACE_MIRROR_LOG"] = str(self.job.log_file)
        result = await notify.run_hook(hook, facts, os.environ, self.job.hook_timeout)
        if result.problem:
            self.complain(f"warning: {result.problem} ({_first_word(hook)}); "
                          "the run's exit code is unchanged")
            self._append_log(f"[{now().isoformat(timespec='seconds')}] space-mirror hook: "
                             f"{result.problem} run={self.run_id}")


def _with_rclone_pid(record: lock.LockRecord, pid: int) -> lock.LockRecord:
    return replace(record, rclone_pid=pid)


def _signum(name: str) -> int:
    return int(signal.Signals[name])


def _first_word(command: str) -> str:
    return command.split()[0] if command.split() else command


def run_job(job: Job, options: RunOptions) -> int:
    """Entry point for the CLI."""
    return asyncio.run(Runner(job, options).run())

