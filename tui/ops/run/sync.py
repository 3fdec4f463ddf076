"""`space-mirror run`: the whole run, end to end.

lock → pre-flight → guards → start marker → rclone sync (own session, log to file, followed,
watched) → end marker → reporters. Every outcome, including a failed pre-flight and an
operator's abort, ends with an end marker in the log, so the log alone tells what happened.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import TextIO

from tui.config import Job
from tui.core import exitcodes
from tui.core.follow import LogFollower
from tui.core.logline import Event, LineParser, LogRecord, StatsUpdate, decode
from tui.core.markers import MarkerKind, now
from tui.core.progress import in_flight
from tui.core.remotes import display_remote
from tui.core.runstate import apply, apply_all, outcome_for
from tui.core.stats import Stats
from tui.core.units import format_bytes, format_duration
from tui.ops import credentials, lock, logfile, preflight, rc, rclone_probe, rclonecmd
from tui.ops.guards import baseline, deletes, source
from tui.ops.monitor import hooks as notify
from tui.ops.monitor import live_metrics
from tui.ops.monitor.reporters import Reporter, RunEnd, default_reporters, run_end
from tui.ops.run import locking, partials, verdict, watchdog
from tui.ops.run.context import RunContext, RunOptions
from tui.ops.run.journal import Journal
from tui.ops.run.rclone import RcloneProcess

STATUS_INTERVAL = 5.0
RC_STATS_TIMEOUT = 1.0  # a stopped rclone does not answer; the watchdog must not wait long
RC_STATS_EVERY = 1.0  # rclone's counters are asked at most once a second
MAX_DELETE_NEEDLE = b"--max-delete threshold reached"
_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class SyncRun:
    """One sync, composed: its context, its journal, its rclone, its reporters."""

    def __init__(self, job: Job, options: RunOptions, out: TextIO | None = None,
                 err: TextIO | None = None,
                 reporters: list[Reporter] | None = None) -> None:
        self.ctx = RunContext(job, options)
        self.journal = Journal(job.log_file, out, err)
        self.journal.keep = credentials.identifiers(job.name, job.source, job.destination,
                                                    job.log_file)
        self.reporters = reporters if reporters is not None else default_reporters(job)
        self.rclone: RcloneProcess | None = None
        self._parser = LineParser()
        self._last_status = 0.0
        self._watchdog: watchdog.Watchdog | None = None
        self._rc_socket: Path | None = None
        self._rc_asked = float("-inf")
        self._said_full = False

    @property
    def job(self) -> Job:
        return self.ctx.job

    # -- signals ------------------------------------------------------------------------
    def on_signal(self, sig: signal.Signals) -> None:
        abort = self.ctx.abort
        abort.count += 1
        if abort.requested_by is None:
            abort.requested_by = sig.name
        if self.rclone is None:
            return  # rclone has not started: the run checks the abort before starting it
        if abort.count > 1:
            self.rclone.kill()  # asked twice: stop waiting for a graceful end
        else:
            self.rclone.stop()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in _SIGNALS:
            loop.add_signal_handler(sig, self.on_signal, sig)
        try:
            return await self._run()
        finally:
            for sig in _SIGNALS:
                loop.remove_signal_handler(sig)

    async def _run(self) -> int:
        ctx = self.ctx
        record = locking.record_for(ctx.job.name, ctx.run_id, ctx.mode, str(ctx.job.log_file),
                                    ctx.opts.started_by)
        held = await asyncio.to_thread(locking.acquire, ctx.job, record, self.journal)
        if isinstance(held, int):
            return held
        try:
            return await self._with_lock(held)
        finally:
            held.release()

    def _stopped_early(self) -> int | None:
        name = self.ctx.abort.requested_by
        if name is None:
            return None
        self.journal.complain(f"stopped by {name} before rclone started")
        return exitcodes.signal_exit_code(int(signal.Signals[name]))

    async def _refuse(self, why: str) -> int:
        """A run that starts no rclone still gets its markers and its reporters."""
        self._start_marker()
        self._end_marker(MarkerKind.FAILED, exitcodes.CONFIG, why)
        await self._report_end(run_end(self.ctx, exitcodes.CONFIG, "failed", why))
        return exitcodes.CONFIG

    async def _with_lock(self, held: lock.HeldLock) -> int:
        ctx, journal = self.ctx, self.journal
        for reporter in self.reporters:
            await reporter.started(ctx, journal)
        results, pre = await asyncio.to_thread(preflight.run_checks, ctx.job,
                                               ctx.opts.offline, True)
        ctx.secrets = journal.secrets = pre.secrets
        ctx.env_file_names = pre.env_file_names
        if (code := self._stopped_early()) is not None:
            return code
        bad = preflight.failed(results)
        if bad:
            for r in preflight.causes(results):
                journal.complain(r.line())
            # A failed log check has just said why the log cannot be written: no echo of it.
            journal.complained = journal.unusable = any(r.name == "log" for r in bad)
            return await self._refuse("pre-flight: " + "; ".join(
                f"{r.name}: {r.detail}" for r in preflight.causes(results)))
        assert pre.rclone is not None and pre.env is not None
        ctx.safety_fields.update(rclone_probe.marker_fields(pre.rclone))
        refusal = await self._check_safety(pre.rclone, pre.env)
        if (code := self._stopped_early()) is not None:
            return code
        if refusal is not None:
            return await self._refuse(refusal)
        return await self._sync(held, pre.rclone, pre.env)

    async def _check_safety(self, rclone: Path, env: dict[str, str]) -> str | None:
        """Source sanity guards, then the delete guard; the refusal's reason, or None."""
        ctx, journal = self.ctx, self.journal
        ctx.baseline = await asyncio.to_thread(baseline.read_baseline, ctx.job.summary_path,
                                               ctx.job)
        verdict_ = await asyncio.to_thread(source.check_source, ctx.job, ctx.opts.force,
                                           ctx.baseline)
        ctx.source = verdict_
        if ctx.opts.force:
            # Name what --force overrode (or `none`): the log keeps the operator's decision.
            ctx.safety_fields["forced"] = verdict_.forced_field()
        for g in verdict_.overridden:
            journal.warn(f"--force overrides the {g.name} guard: {g.detail}")
        if not verdict_.ok:
            for g in verdict_.refused:
                journal.complain(g.line())
            return "source guard: " + "; ".join(f"{g.name}: {g.detail}"
                                                for g in verdict_.refused)
        if not ctx.opts.dry_run:
            dest = await asyncio.to_thread(deletes.destination_files, ctx.job, ctx.baseline,
                                           rclone, env)
            left = await asyncio.to_thread(self._clean_partials, str(rclone), env)
            ctx.delete_cap = deletes.delete_guard(ctx.job, dest, ctx.opts.max_delete, left)
            ctx.safety_fields["max_delete"] = str(ctx.delete_cap.limit)
        return None

    def _clean_partials(self, rclone: str, env: dict[str, str]) -> deletes.PartialsLeft:
        """After an interrupted run: remove the partial files it left (tui/ops/run/
        partials.py says why here and not in rclone); where that cannot be done, the delete
        guard allows for them instead."""
        ctx = self.ctx
        interrupted = ctx.baseline.interrupted if ctx.baseline else 0
        if not interrupted:
            return deletes.PartialsLeft(0, 0)
        removed = partials.clean(ctx.job, rclone, env, min(ctx.job.remote_timeout, 10.0))
        if removed:
            noun = "file" if removed == 1 else "files"
            ctx.safety_fields["partials_removed"] = str(removed)
            self.journal.say(f"space-mirror: removed {removed} partial {noun} that an "
                             "interrupted run left at the destination")
        return deletes.PartialsLeft(None if removed is None else 0, interrupted)

    def _start_marker(self) -> None:
        ctx = self.ctx
        extra = {"by": ctx.opts.started_by, **ctx.opts.extra_start_fields, **ctx.safety_fields}
        self.journal.start_marker(ctx.run_id, ctx.job.name, ctx.mode, extra)

    def _end_marker(self, kind: MarkerKind, code: int, reason: str | None) -> None:
        # Its `elapsed` is the run's wall time, not rclone's (which stops with its last stats).
        counters = {**self.ctx.state.counters(), "elapsed": f"{self.ctx.elapsed:.1f}"}
        if self.ctx.partials_counted:  # what a stopped rclone left: a count, or `unknown`
            left = self.ctx.partials_left
            counters["partials_left"] = "unknown" if left is None else str(left)
        self.journal.end_marker(kind, self.ctx.run_id, code, counters, reason)

    async def _report_end(self, end: RunEnd) -> None:
        for reporter in self.reporters:
            await reporter.finished(self.ctx, self.journal, end)

    async def _sync(self, held: lock.HeldLock, rclone: Path, env: dict[str, str]) -> int:
        ctx, journal = self.ctx, self.journal
        # A real sync always gets the delete guard as --max-delete. A dry run deletes
        # nothing, and a cap would cut its list of deletes short, so it gets only an
        # explicit --allow-deletes.
        max_delete = ctx.delete_cap.limit if ctx.delete_cap else ctx.opts.max_delete
        rc_socket, rc_off = await asyncio.to_thread(rc.prepare_socket, ctx.job)
        self._rc_socket = rc_socket
        if rc_off is not None:
            journal.warn(f"live bandwidth control is off for this run: {rc_off}")
        argv = rclonecmd.sync_command(rclone, ctx.job, ctx.opts.dry_run, max_delete, rc_socket)
        argv += watchdog.window_flags(ctx.job, now())
        offset = journal.size()
        logfile.reserve_room(ctx.job.log_file)  # first: the end marker's room
        self._start_marker()
        if not ctx.opts.dry_run and ctx.baseline is not None:
            warning = await asyncio.to_thread(
                baseline.presume_interrupted, ctx.job, ctx.baseline, ctx.run_id,
                ctx.source.source_files if ctx.source else None)
            if warning:
                journal.warn(warning)
        for reporter in self.reporters:
            await reporter.rclone_starting(ctx, journal)
        env = {**env, "SPACE_MIRROR_RUN_ID": ctx.run_id}  # abort checks rclone's identity
        code, reason, kind = await self._run_rclone(argv, env, held, offset)
        rc.remove_socket(rc_socket)
        journal.check_full()
        self._end_marker(kind, code, reason)
        # The outcome the end marker says, as every reader of it says it (the dashboard, the
        # history): rclone dead of a signal is `killed` in the summary and the hooks too.
        outcome = str(outcome_for(kind, code))
        s = ctx.state
        journal.say(f"space-mirror: run {ctx.run_id} {outcome} (exit {code}): "
                    f"{format_bytes(s.bytes)}, {s.transfers} transferred, {s.deletes} deleted, "
                    f"{s.renames} renamed, {s.errors} errors, {format_duration(s.elapsed)}"
                    + (f" — {reason}" if reason else "")
                    + (" (counts incomplete: the log's file system filled up and rclone's "
                       "last lines were lost)" if journal.log_full else ""))
        await self._report_end(run_end(ctx, code, outcome, reason))
        return code

    async def _run_rclone(self, argv: list[str], env: dict[str, str], held: lock.HeldLock,
                          offset: int) -> tuple[int, str | None, MarkerKind]:
        ctx, journal = self.ctx, self.journal
        journal.say(f"space-mirror: run {ctx.run_id} started ({ctx.mode} {ctx.job.source} → "
                    f"{display_remote(ctx.job.destination)})")
        proc = RcloneProcess(argv, env, ctx.job.log_file, held, ctx.job.abort_grace)
        problem = proc.start()
        if problem is not None:  # after the start marker: this run still gets its end marker
            return exitcodes.CONFIG, problem, MarkerKind.FAILED
        self.rclone = proc
        ctx.ran_rclone = True
        if proc.warning:
            journal.warn(proc.warning)
        if ctx.abort.requested_by:
            proc.stop()
        # Follow the file rclone writes to, not the name: after a rename rotation rclone
        # keeps writing into the renamed file, and its final stats are our end counters.
        follower = LogFollower(ctx.job.log_file, start=offset, poll_interval=0.5,
                               follow_name=False)
        self._consume(follower.poll().lines)  # open rclone's file now, before any rotation
        self._watchdog = watchdog.Watchdog(
            ctx.job, lambda: ctx.state,
            rclone_stats=self._rclone_stats if self._rc_socket is not None else None,
            log_full=lambda: self.journal.log_full)
        # The live series (metrics_interval): a task of its own, so a SIGSTOPped rclone that
        # writes no line still gets its textfile rewritten with the time since progress.
        live = asyncio.create_task(live_metrics.LiveMetrics(
            ctx.job, lambda: ctx.state, argv[0], self._watchdog.idle).publish(
                journal.complain, ctx.mode))
        try:
            code = await asyncio.to_thread(proc.wait, lambda: self._tick(follower),
                                           self._tick_interval())
        finally:
            live.cancel()
            proc.finish()
        self._drain(follower)
        if code != 0 and (ctx.trip or ctx.abort.requested_by or code > 128):
            ctx.partials_left = await asyncio.to_thread(
                partials.count_left, ctx.job, argv[0], env, min(ctx.job.remote_timeout, 10.0))
            ctx.cut_short_left = await asyncio.to_thread(
                partials.cut_short, ctx.job, argv[0], in_flight(ctx.state))
            ctx.partials_counted = True
        if ctx.trip is not None and code != 0:
            code = ctx.trip.code
        return (code, *verdict.judge(ctx, code))

    def _tick_interval(self) -> float:
        dog = self._watchdog
        return min(0.5, dog.interval) if dog is not None and dog.interval else 0.5

    def _tick(self, follower: LogFollower) -> None:
        """Between polls of rclone (in the waiting thread): its new lines into the state,
        systemd's STATUS= line, and the watchdog."""
        ctx = self.ctx
        self._consume(follower.poll().lines)
        self.journal.check_full()
        self._say_log_full()
        if time.monotonic() - self._last_status >= STATUS_INTERVAL:
            self._last_status = time.monotonic()
            notify.sd_notify(f"STATUS={self.status_line()}")
        dog = self._watchdog
        if dog is None or ctx.trip is not None:  # without limits it still keeps the clock
            return
        trip = dog.check()
        if trip is not None:
            ctx.trip = trip
            self.journal.note("WARNING", f"{trip.reason}; stopping rclone", ctx.run_id)
            self.journal.warn(f"{trip.reason}; stopping rclone")
            if self.rclone is not None:
                self.rclone.stop()

    def _rclone_stats(self) -> Stats | None:
        """rclone's counters from its remote control (None: it did not answer). While the
        log's file system is full they are also the run's counters: rclone's stats lines
        are lost, and the end marker and summary must not report the short ones."""
        if self._rc_socket is None or time.monotonic() - self._rc_asked < RC_STATS_EVERY:
            return None  # (None: the watchdog keeps rclone's last counters)
        self._rc_asked = time.monotonic()
        try:
            answer = rc.call(self._rc_socket, "core/stats", timeout=RC_STATS_TIMEOUT)
        except rc.RcError:
            return None
        stats = Stats.from_json(answer)
        if self.journal.log_full:
            self.ctx.state = apply(self.ctx.state, StatsUpdate(now().isoformat(), stats))
        return stats

    def _say_log_full(self) -> None:
        """Once: what the stall watchdog does while the log loses rclone's lines."""
        if not self.journal.log_full or self._said_full:
            return
        self._said_full = True
        how = ("rclone's progress is read from its remote control"
               if self._rc_socket is not None else
               "the stall watchdog waits until the log takes lines again")
        self.journal.warn(f"log disk full: rclone's log lines are lost; {how}, and the "
                          "sync goes on")

    def _consume(self, lines: list[bytes]) -> None:
        ctx = self.ctx
        events: list[Event] = []
        for raw in lines:
            if MAX_DELETE_NEEDLE in raw:
                ctx.max_delete_hit = True
            if exitcodes.is_go_crash_line(raw):
                ctx.crashed = True
            events.extend(self._parser.feed(decode(raw)))
        self._apply(events)

    def _apply(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, LogRecord) and event.is_error:
                self.ctx.errors.add_record(event.object, event.msg)
        self.ctx.state = apply_all(self.ctx.state, events)

    def _drain(self, follower: LogFollower) -> None:
        # rclone has exited: read what it wrote after our last poll, up to the end of file.
        batch = follower.poll()
        while batch.lines:
            self._consume(batch.lines)
            batch = follower.poll()
        self._apply(self._parser.flush())
        follower.close()

    def status_line(self) -> str:
        mode = self.ctx.mode
        s = self.ctx.state.stats
        if s is None:
            return f"{mode}: starting"
        pct = f" ({s.percent:.0f}%)" if s.percent is not None else ""
        eta = f", ETA {format_duration(s.eta)}" if s.eta is not None else ""
        return (f"{mode}: {format_bytes(s.bytes)} / {format_bytes(s.total_bytes)}{pct}, "
                f"{s.transfers}/{s.total_transfers} files, {s.deletes} deleted, "
                f"{s.errors} errors{eta}")


def run_job(job: Job, options: RunOptions) -> int:
    """Entry point for the CLI."""
    return asyncio.run(SyncRun(job, options).run())
