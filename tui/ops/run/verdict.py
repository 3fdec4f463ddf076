"""How a run ended, in one sentence that says only what is true: the runner's own verdicts
(the watchdog, an abort, the delete guard, the job's window) say what happened and what to
do; otherwise the counted causes lead, with their remedy; rclone's exit code last."""

from __future__ import annotations

import signal

from tui.core import exitcodes, remedy
from tui.core.markers import MarkerKind
from tui.ops import rclone_probe
from tui.ops.run import partials
from tui.ops.run.context import RunContext


def judge(ctx: RunContext, code: int) -> tuple[str | None, MarkerKind]:
    if code == 0:
        # rclone finished before a late signal could stop it: the sync is complete.
        return None, MarkerKind.COMPLETE
    remains = (partials.remains_text(ctx.partials_left, ctx.cut_short_left)
               if ctx.partials_counted else None)
    left = f"; {remains}" if remains else ""
    if ctx.trip is not None:
        return f"{ctx.trip.reason}{left}", MarkerKind.FAILED
    if ctx.abort.requested_by:
        return (f"aborted by operator ({ctx.abort.requested_by}); rclone stopped"
                f"{left}: what it had synced stays, the rest waits for the next run",
                MarkerKind.ABORTED)
    if code == 2 and ctx.crashed:
        return exitcodes.CRASHED.meaning, MarkerKind.FAILED
    if exitcodes.is_abort(code):
        return (f"rclone was stopped by {signal.Signals(code - 128).name}{left}",
                MarkerKind.ABORTED)
    cap = ctx.delete_cap.limit if ctx.delete_cap else ctx.opts.max_delete
    # rclone 1.75.2 logs `Got fatal error on delete: --max-delete threshold reached` (ERROR)
    # for each delete past the cap, then exits 7 having deleted exactly the cap.
    if code == 7 and cap is not None and ctx.max_delete_hit:
        return (f"max-delete guard reached, {ctx.state.deletes} of {cap} deletes allowed "
                "(the sync wanted more); check the source, see `space-mirror plan`, and "
                "allow them with `space-mirror run --allow-deletes N`", MarkerKind.FAILED)
    counted = remedy.error_count(ctx.errors)
    # Exit codes read per rclone version: before 1.64 (Debian 12's 1.60.1) a --max-duration
    # cutoff exits 7, the code of auth and quota failures (tui/core/rclone_version.py).
    info = rclone_probe.for_job(ctx.job)
    cutoff = exitcodes.cutoff_reason(code, ctx.state.recent_errors,
                                     info is None or info.caps.exit_max_duration,
                                     str(info.version) if info else "")
    if ctx.job.window_end and (code == exitcodes.MAX_DURATION
                               or (code == 7 and cutoff is not None)):
        # The job's window closed: rclone started no new transfer and let those in flight
        # finish. The errors it met on the way are not why it stopped.
        old = (f" (rclone {info.version if info else ''} exits 7 here: it has no exit 10)"
               if code == 7 else "")
        also = f"; also {remedy.reason_line(counted, ctx.job)}" if counted.classes else ""
        return (f"window_end {ctx.job.window_end} reached: rclone started no new transfer "
                f"after it and finished those in flight{old}; the rest waits for the next "
                f"run{also}", MarkerKind.FAILED)
    if cutoff is not None:  # --max-duration in the job's flags, not its window_end
        return cutoff, MarkerKind.FAILED
    if counted.classes:
        # The main class, its count and example, then the remedy: never rclone's
        # `Attempt N/M failed with K errors` summary.
        return remedy.reason_line(counted, ctx.job), MarkerKind.FAILED
    last = ctx.state.recent_errors[-1] if ctx.state.recent_errors else None
    last_error = remedy.clean_reason(last) if last else None
    meaning = exitcodes.meaning(code).meaning
    if code > 128 and remains:
        meaning = f"{meaning.split(';')[0]}; {remains}."
    return (f"{meaning} Last error: {last_error}" if last_error else meaning), MarkerKind.FAILED
