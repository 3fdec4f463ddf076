"""The reporters a run calls at its start and at its end (resticprofile's receivers,
borgmatic's monitoring hooks): each says what the run did to one audience, none can change
the run's exit code, and a failure to report is a warning on stderr.

    Summary     the JSON summary and the Prometheus textfile (tui/ops/monitor/metrics.py)
    Ping        Healthchecks-style pings (tui/ops/monitor/ping.py)
    Hook        on_success / on_failure commands (tui/ops/monitor/hooks.py)
    SdNotify    systemd's STATUS= line
    Notify      Apprise notifications, once per change of state (notify_apprise.py), when
                the job has `notify`
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass

from tui.config import Job
from tui.core.markers import now
from tui.core.runstate import left_undone
from tui.ops import credentials, safefile
from tui.ops.guards import baseline
from tui.ops.monitor import hooks as notify
from tui.ops.monitor import metrics, ping, prom
from tui.ops.monitor.summary import DELETES_SKIPPED_RUNS, carry, read_summary
from tui.ops.run.context import RunContext
from tui.ops.run.journal import Journal


@dataclass(frozen=True)
class RunEnd:
    code: int
    outcome: str  # success, failed, aborted
    reason: str | None
    summary: metrics.RunSummary  # what the summary file, the textfile and hooks all say


def run_end(ctx: RunContext, code: int, outcome: str, reason: str | None) -> RunEnd:
    """The run's end as every reporter tells it: one summary, built once."""
    ended = time.time()
    reason = credentials.redact(reason, ctx.secrets) if reason else None
    summary = metrics.RunSummary(
        job=ctx.job.name, run_id=ctx.run_id, mode=ctx.mode, started=ctx.started_ts,
        ended=ended, exit_code=code, outcome=outcome, reason=reason,
        bytes=ctx.state.bytes, transfers=ctx.state.transfers, checks=ctx.state.checks,
        deletes=ctx.state.deletes, renames=ctx.state.renames, errors=ctx.state.errors,
        extra=baseline.summary_fields(
            ctx.baseline or baseline.read_baseline(ctx.job.summary_path, ctx.job),
            ctx.run_id, outcome == "success" and ctx.mode == "sync",
            ctx.source.source_files if ctx.source else None,
            interrupted=ctx.mode == "sync" and ctx.ran_rclone and outcome != "success",
            job=ctx.job) | _health_fields(ctx, outcome, ended),
    )
    return RunEnd(code, outcome, reason, summary)


def _health_fields(ctx: RunContext, outcome: str, ended: float) -> dict[str, object]:
    """The summary's carried-over and monitoring fields (docs/runner.md#metrics)."""
    from tui.ops.health import persistent_of

    tripped = [g.name for g in ctx.source.refused] if ctx.source else []
    if ctx.max_delete_hit:
        tripped.append("max_delete")
    persistent = persistent_of(ctx.job, cache="state")  # root's runner: its own state folder
    carried = carry(read_summary(ctx.job.summary_path), mode=ctx.mode,
                    outcome=outcome, ended=ended, ran_rclone=ctx.ran_rclone,
                    deletes_skipped=(ctx.state.deletes_skipped_for_io_errors
                                     and left_undone(outcome)))
    if persistent is not None:  # the history's count is the one home; the carry is a fallback
        carried[DELETES_SKIPPED_RUNS] = persistent.deletes_skipped_runs
    return {
        **carried,
        "stalled": ctx.stalled,
        "guards_tripped": tripped,
        "persistent_failed_files": (len(persistent.repeating) if persistent is not None
                                    else None),
        # What a stopped rclone left at the destination: counted (a number), unknown
        # (null after a stop we could not count), or not applicable (absent).
        **({"partials_left": ctx.partials_left} if ctx.partials_counted else {}),
        "rclone_version": ctx.safety_fields.get("rclone_version"),
    }


class Reporter:
    """`started`: the lock is held, nothing checked yet. `rclone_starting`: the checks
    passed and rclone is about to start. `finished`: the end marker is written.

    A reporter overrides the moments it has something to say at; the others do nothing."""

    async def started(self, ctx: RunContext, journal: Journal) -> None:
        return None

    async def rclone_starting(self, ctx: RunContext, journal: Journal) -> None:
        return None

    async def finished(self, ctx: RunContext, journal: Journal, end: RunEnd) -> None:
        return None


def run_max(ctx: RunContext) -> float:
    return ctx.job.max_duration or metrics.DEFAULT_RUN_MAX


class Summary(Reporter):
    """`run_in_progress 1` before rclone starts (a run that dies leaves that evidence);
    the summary and the textfile at the end."""

    async def rclone_starting(self, ctx: RunContext, journal: Journal) -> None:
        if ctx.mode != "sync":
            return
        path = ctx.job.metrics_path
        try:
            previous = (safefile.read_private(path) or b"").decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            journal.warn(f"could not read {path}: {exc}")
            previous = ""
        text = metrics.in_progress_text(previous, ctx.job.name, ctx.started_ts, run_max(ctx))
        warning = prom.write(path, text)
        if warning:
            journal.warn(warning)

    async def finished(self, ctx: RunContext, journal: Journal, end: RunEnd) -> None:
        # The job's thresholds stay in the textfile: a fleet view judges its series by them.
        from tui.ops.monitor.live_metrics import settings_samples

        for warning in metrics.write_metrics(ctx.job.metrics_path, ctx.job.summary_path,
                                             end.summary, run_max(ctx),
                                             settings_samples(ctx.job)):
            journal.warn(warning)


class Ping(Reporter):
    """Healthchecks-style pings for real syncs; never fatal."""

    async def started(self, ctx: RunContext, journal: Journal) -> None:
        await self._send(ctx, journal, "start")

    async def finished(self, ctx: RunContext, journal: Journal, end: RunEnd) -> None:
        await self._send(ctx, journal, "success" if end.outcome == "success" else "failure",
                         end.code)

    @staticmethod
    async def _send(ctx: RunContext, journal: Journal, event: str,
                    code: int | None = None) -> None:
        url = ctx.job.ping_url
        if not url or ctx.mode != "sync":
            return
        body = b"" if event == "start" else ping.log_tail(ctx.job.log_file, ctx.secrets)
        timeout = min(ping.TIMEOUT, ctx.job.hook_timeout or ping.TIMEOUT)
        problem = await asyncio.to_thread(ping.send, ping.target(url, event, code), body,
                                          timeout)
        if problem:
            journal.warn(f"{problem}; the run's exit code is unchanged")


class Hook(Reporter):
    """The job's on_success / on_failure command, with the run's facts in its environment
    (never a variable the env file defined)."""

    async def finished(self, ctx: RunContext, journal: Journal, end: RunEnd) -> None:
        hook = ctx.job.on_success if end.outcome == "success" else ctx.job.on_failure
        if not hook:
            return
        facts = {f"SPACE_MIRROR_{k.upper()}": "" if v is None else str(v)
                 for k, v in end.summary.as_dict().items()}
        facts["SPACE_MIRROR_LOG"] = str(ctx.job.log_file)
        result = await notify.run_hook(hook, facts, os.environ, ctx.job.hook_timeout,
                                       ctx.env_file_names)
        if result.problem:
            first = hook.split()[0] if hook.split() else hook
            journal.warn(f"{result.problem} ({first}); the run's exit code is unchanged")
            journal.append(f"[{now().isoformat(timespec='seconds')}] space-mirror hook: "
                           f"{result.problem} run={ctx.run_id}")


class SdNotify(Reporter):
    async def finished(self, ctx: RunContext, journal: Journal, end: RunEnd) -> None:
        notify.sd_notify(f"STATUS=last run {end.outcome} (exit {end.code})")


def default_reporters(job: Job | None = None) -> list[Reporter]:
    """Summary first: the reporters after it (Notify) read the health it records."""
    reporters: list[Reporter] = [Summary(), SdNotify(), Ping(), Hook()]
    if job is not None and job.notify:
        from tui.ops.monitor.notify_apprise import Notify

        reporters.append(Notify())
    return reporters
