"""Following rclone while it runs (its log lines folded into the run's state, the
watchdog), judging how it ended, and stopping it on a signal (SIGTERM, then SIGKILL
after the job's grace)."""

from __future__ import annotations

import asyncio
import signal
import time

from tui.core import exitcodes, remedy
from tui.core.follow import LogFollower
from tui.core.logline import Event, LogRecord, decode
from tui.core.markers import MarkerKind, now
from tui.core.runstate import apply_all
from tui.core.units import format_bytes, format_duration
from tui.ops import (
    notify,
    partials,
    rclone_probe,
    watchdog,
)
from tui.ops.runbase import MAX_DELETE_NEEDLE, STATUS_INTERVAL
from tui.ops.runlog import RunOutput


class RcloneControl(RunOutput):
    """rclone while it runs: its lines into the state, the watchdog, the verdict, stopping."""

    async def _watchdog(self) -> None:
        """Stall and max_duration limits: a WARNING line in the log, then stop rclone."""
        trip = await watchdog.Watchdog(self.job, lambda: self.state).tripped()
        self._trip = trip
        self._append_log(f"[{now().isoformat(timespec='seconds')}] space-mirror WARNING: "
                         f"{trip.reason}; stopping rclone run={self.run_id}")
        self.complain(f"warning: {trip.reason}; stopping rclone")
        self._terminate()

    def _verdict(self, code: int) -> tuple[str | None, MarkerKind]:
        if code == 0:
            # rclone finished before a late signal could stop it: the sync is complete.
            return None, MarkerKind.COMPLETE
        remains = self._remains or partials.remains_text(None)
        if self._trip is not None:
            return f"{self._trip.reason}; {remains}", MarkerKind.FAILED
        if self.abort.requested_by:
            return (f"aborted by operator ({self.abort.requested_by}); rclone stopped; "
                    f"{remains}: what it had synced stays, the rest waits for the next run",
                    MarkerKind.ABORTED)
        if code == 2 and self._crashed:
            return exitcodes.CRASHED.meaning, MarkerKind.FAILED
        if exitcodes.is_abort(code):
            return (f"rclone was stopped by {signal.Signals(code - 128).name}; {remains}",
                    MarkerKind.ABORTED)
        info = rclone_probe.for_job(self.job)
        cutoff = exitcodes.cutoff_reason(code, self.state.recent_errors,
                                         info is None or info.caps.exit_max_duration,
                                         str(info.version) if info else "")
        if cutoff is not None:
            return cutoff, MarkerKind.FAILED
        cap = self.delete_cap.limit if self.delete_cap else self.opts.max_delete
        # rclone 1.75.2 logs `Got fatal error on delete: --max-delete threshold reached` (ERROR)
        # for each delete past the cap, then exits 7 having deleted exactly the cap.
        if code == 7 and cap is not None and self._max_delete_hit:
            return (f"max-delete guard reached, {self.state.deletes} of {cap} deletes allowed "
                    "(the sync wanted more); check the source, see `space-mirror plan`, and "
                    "allow them with `space-mirror run --allow-deletes N`", MarkerKind.FAILED)
        counted = self._errors.result()
        if counted.classes:
            # The main class, its count and example, then the remedy: never rclone's
            # `Attempt N/M failed with K errors` summary.
            return remedy.reason_line(counted, self.job), MarkerKind.FAILED
        last = self.state.recent_errors[-1] if self.state.recent_errors else None
        last_error = remedy.clean_reason(last) if last else None
        meaning = exitcodes.meaning(code).meaning
        if code > 128 and self._remains:
            meaning = f"{meaning.split(';')[0]}; {self._remains}."
        return (f"{meaning} Last error: {last_error}" if last_error else meaning), MarkerKind.FAILED

    def _apply(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, LogRecord) and event.is_error:
                self._errors.add(event.object, event.msg)
        self.state = apply_all(self.state, events)

    def _consume(self, lines: list[bytes]) -> None:
        events: list[Event] = []
        for raw in lines:
            if MAX_DELETE_NEEDLE in raw:
                self._max_delete_hit = True
            if exitcodes.is_go_crash_line(raw):
                self._crashed = True
            events.extend(self._parser.feed(decode(raw)))
        self._apply(events)

    async def _watch(self, follower: LogFollower) -> None:
        last_status = 0.0
        async for batch in follower.batches():
            self._consume(batch.lines)
            self._note_log_full()
            if time.monotonic() - last_status >= STATUS_INTERVAL:
                last_status = time.monotonic()
                notify.sd_notify(f"STATUS={self.status_line()}")

    def _drain(self, follower: LogFollower) -> None:
        # rclone has exited: read what it wrote after our last poll, up to the end of file.
        batch = follower.poll()
        while batch.lines:
            self._consume(batch.lines)
            batch = follower.poll()
        self._apply(self._parser.flush())
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
            # A stopped (SIGSTOPped) rclone acts on SIGTERM only once it runs again. SIGCONT
            # goes first: send_signal() polls (reaps) the child, and after the SIGTERM it may
            # already have exited, which would steal its exit code from asyncio's watcher.
            proc.send_signal(signal.SIGCONT)
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
