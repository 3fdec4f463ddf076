"""`space-mirror plan` and the dashboard's Plan screen: run the job's dry run, build the Plan.

The dry run is the job's own command line (its flags, its environment) plus `--dry-run`, run
under the job lock after the pre-flight and the source guards, exactly as the real sync would
be. It writes to a private temporary log, not the job log, because:
  - the job log is the history of real runs: a plan's one NOTICE line per file would bloat it
    and show up in `history` as a run of its own;
  - the planner reads only its own lines, with no other writer interleaved;
  - a plan is a question, not an event: it leaves nothing behind (the temp folder is removed).
The lock record points at that temporary log, so a dashboard that looks at "what is running"
while a plan is computed sees a dry run and can follow it.

No --max-delete is passed: rclone counts dry-run deletes against it too, and a cap would cut
the list of deletes short. The delete guard is computed here and shown beside the plan.
"""

from __future__ import annotations

import io
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from tui.config import Job
from tui.core import exitcodes
from tui.core.follow import LogFollower
from tui.core.logline import StatsUpdate, decode, parse_line
from tui.core.plan import Plan, PlanBuilder
from tui.core.stats import Stats
from tui.ops import credentials, lock, preflight, rclonecmd
from tui.ops.guards import baseline, deletes, source
from tui.ops.run import locking
from tui.ops.run.context import new_run_id
from tui.ops.run.journal import Journal
from tui.ops.run.rclone import RcloneProcess

POLL_SECONDS = 0.2
CANCELLED = exitcodes.signal_exit_code(15)


@dataclass
class PlanOutcome:
    """What `compute_plan` found: a plan (code 0, or rclone's code with a partial plan),
    or the reasons nothing ran (code 75 lock held, 78 pre-flight or source guard)."""

    code: int
    plan: Plan | None = None
    problems: list[str] = field(default_factory=list)  # one line each, secrets redacted
    guard: deletes.DeleteGuard | None = None


def compute_plan(
    job: Job,
    offline: bool = False,
    force: bool = False,
    cancel: threading.Event | None = None,
    progress: Callable[[Stats], None] | None = None,
    started_by: str = "cli",
) -> PlanOutcome:
    """Blocking; call it from a thread in the dashboard. `cancel` stops the dry run."""
    run_id = "plan-" + new_run_id()
    tmp = Path(tempfile.mkdtemp(prefix="space-mirror-plan-"))
    log = tmp / "dry-run.log"
    record = locking.record_for(job.name, run_id, "dry-run", str(log), started_by)
    try:
        said = io.StringIO()  # the lock's refusal, as the plan's problems
        got = locking.acquire(job, record, Journal(job.log_file, said, said))
        if isinstance(got, int):
            lines = [ln.removeprefix("space-mirror: ") for ln in said.getvalue().splitlines()]
            if got == exitcodes.LOCKED:
                lines = [f"{ln}; plan again when it ends" for ln in lines]
            return PlanOutcome(got, problems=lines)
        try:
            return _plan_locked(job, got, log, offline, force, cancel, progress)
        finally:
            got.release()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _plan_locked(job: Job, held: lock.HeldLock, log: Path, offline: bool, force: bool,
                 cancel: threading.Event | None,
                 progress: Callable[[Stats], None] | None) -> PlanOutcome:
    results, ctx = preflight.run_checks(job, offline, lock_is_ours=True)
    bad = preflight.failed(results)
    if bad:
        return PlanOutcome(exitcodes.CONFIG, problems=[
            credentials.redact(r.line(), ctx.secrets) for r in bad])
    assert ctx.rclone is not None and ctx.env is not None
    base = baseline.read_baseline(job.summary_path, job)
    verdict = source.check_source(job, force, base)
    if not verdict.ok:
        return PlanOutcome(exitcodes.CONFIG, problems=[g.line() for g in verdict.refused])
    dest = deletes.destination_files(job, base, ctx.rclone, ctx.env)
    left = deletes.partials_at_destination(job, base, str(ctx.rclone), ctx.env)
    # As the runner: it removes counted partial files before the sync (no allowance for
    # them); only uncountable ones get one.
    guard = deletes.delete_guard(job, dest, None, deletes.PartialsLeft(
        None if left.found is None else 0, left.interrupted))
    argv = rclonecmd.sync_command(ctx.rclone, replace(job, log_file=log), dry_run=True)
    if cancel is not None and cancel.is_set():  # stopped during the pre-flight: start nothing
        return PlanOutcome(CANCELLED, problems=["the plan was cancelled"], guard=guard)
    builder = PlanBuilder()
    try:
        env = {**ctx.env, "SPACE_MIRROR_RUN_ID": held.record.run_id}  # abort checks it
        code = _run_dry(argv, env, held, log, builder, cancel, progress, job.abort_grace)
    except OSError as exc:
        return PlanOutcome(exitcodes.CONFIG, problems=[
            f"rclone could not start: {exc.strerror}" if exc.strerror else str(exc)])
    if code == CANCELLED:
        return PlanOutcome(code, problems=["the plan was cancelled"], guard=guard)
    plan = replace(builder.build(code), delete_guard=guard.limit, delete_guard_why=guard.why)
    for g in verdict.overridden:
        plan = plan.with_warning(f"--force overrides the {g.name} guard: {g.detail}")
    if left.found:
        noun = "file" if left.found == 1 else "files"
        plan = plan.with_warning(f"{left.found} partial {noun} left by an interrupted run: "
                                 "the sync removes them before it starts")
    if plan.exceeds_guard:
        n = len(plan.deletes)
        plan = plan.with_warning(
            f"{n} deletes exceed the delete guard of {guard.describe()}: the real sync would "
            f"stop there; to allow them, confirm with `space-mirror run --allow-deletes {n}` "
            "(dashboard: type the job's name)")
    plan = replace(plan, warnings=tuple(credentials.redact(w, ctx.secrets)
                                        for w in plan.warnings))
    return PlanOutcome(code, plan, guard=guard)


def _run_dry(argv: list[str], env: dict[str, str], held: lock.HeldLock, log: Path,
             builder: PlanBuilder, cancel: threading.Event | None,
             progress: Callable[[Stats], None] | None, grace: float) -> int:
    """The dry run on the engine's rclone process: its output into the private log, read
    back as it comes (tail -f), stopped with the engine's policy when cancelled."""
    proc = RcloneProcess(argv, env, log, held, grace, output_mode=0o600, new_session=False)
    problem = proc.start()
    if problem is not None:
        raise OSError(problem)
    follower = LogFollower(log, follow_name=False)
    cancelled = False

    def tick() -> None:
        nonlocal cancelled
        if cancel is not None and cancel.is_set() and not cancelled:
            cancelled = True
            proc.stop()
        _feed(follower.poll().lines, builder, progress)

    try:
        code = proc.wait(tick, POLL_SECONDS)
        batch = follower.poll()
        while batch.lines:
            _feed(batch.lines, builder, progress)
            batch = follower.poll()
    finally:
        proc.finish()  # an exception (KeyboardInterrupt) while waiting
        follower.close()
    return CANCELLED if cancelled else code


def _feed(lines: list[bytes], builder: PlanBuilder,
          progress: Callable[[Stats], None] | None) -> None:
    for raw in lines:
        text = decode(raw)
        if progress is not None and '"stats"' in text:
            event = parse_line(text)
            if isinstance(event, StatsUpdate):
                progress(event.stats)
        builder.feed_line(text)  # stats lines too: they tell the builder of fatal errors
