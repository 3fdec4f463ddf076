"""After a run, and around it: the Prometheus textfile (run_in_progress at the start),
the JSON summary with what it carries over, the hooks and the Healthchecks pings."""

from __future__ import annotations

import asyncio
import os
import time

from tui.core import exitcodes
from tui.core.markers import now
from tui.ops import (
    credentials,
    health,
    live_metrics,
    metrics,
    notify,
    ping,
    safefile,
    safety,
)
from tui.ops.rclonewatch import RcloneControl


class AfterRun(RcloneControl):
    """Metrics, summary, hooks and pings: what a run leaves for monitoring."""

    def _metrics_in_progress(self, started_ts: float) -> None:
        """`run_in_progress 1` in the textfile before rclone starts: a run that dies
        leaves that evidence behind."""
        path = self.job.metrics_path
        try:
            previous = (safefile.read_private(path) or b"").decode("utf-8")
            metrics.write_atomic(path, metrics.in_progress_text(
                previous, self.job.name, started_ts, self._run_max()))
        except (OSError, UnicodeDecodeError) as exc:
            self.complain(f"warning: could not write {path}: {exc}")

    def _run_max(self) -> float:
        return self.job.max_duration or metrics.DEFAULT_RUN_MAX

    def _health_fields(self, outcome: str, ended: float) -> dict[str, object]:
        """The summary's carried-over and monitoring fields (docs/runner.md#metrics)."""
        tripped = [g.name for g in self.source.refused] if self.source else []
        if self._max_delete_hit:
            tripped.append("max_delete")
        persistent = health.persistent_summary(self.job)
        return {
            **metrics.carry(metrics.read_summary(self.job.summary_path), mode=self.mode,
                            outcome=outcome, ended=ended, ran_rclone=self._proc is not None,
                            deletes_skipped=self.state.deletes_skipped_for_io_errors),
            "stalled": self._trip is not None and self._trip.code == exitcodes.STALLED,
            "guards_tripped": tripped,
            "persistent_failed_files": persistent.files if persistent else None,
        }

    async def _ping(self, event: str, code: int | None = None) -> None:
        """A Healthchecks-style ping for real syncs (tui/ops/ping.py); never fatal."""
        url = self.job.ping_url
        if not url or self.mode != "sync":
            return
        body = b"" if event == "start" else ping.log_tail(self.job.log_file, self.secrets)
        problem = await asyncio.to_thread(ping.send, ping.target(url, event, code), body,
                                          min(ping.TIMEOUT, self.job.hook_timeout or ping.TIMEOUT))
        if problem:
            self.complain(f"warning: {problem}; the run's exit code is unchanged")

    async def _after_run(self, code: int, outcome: str, reason: str | None,
                         started_ts: float) -> None:
        ended = time.time()
        summary = metrics.RunSummary(
            job=self.job.name, run_id=self.run_id, mode=self.mode, started=started_ts,
            ended=ended, exit_code=code, outcome=outcome,
            reason=credentials.redact(reason, self.secrets) if reason else None,
            bytes=self.state.bytes, transfers=self.state.transfers, checks=self.state.checks,
            deletes=self.state.deletes, renames=self.state.renames, errors=self.state.errors,
            extra=safety.summary_fields(
                self._baseline or safety.read_baseline(self.job.summary_path, self.job),
                self.run_id, outcome == "success" and self.mode == "sync",
                self.source.source_files if self.source else None,
                interrupted=self.mode == "sync" and self._proc is not None
                and outcome != "success", job=self.job) | self._health_fields(outcome, ended),
        )
        for warning in metrics.write_metrics(self.job.metrics_path, self.job.summary_path, summary,
                                             self._run_max(),
                                             live_metrics.settings_samples(self.job)):
            self.complain(f"warning: {warning}")
        notify.sd_notify(f"STATUS=last run {outcome} (exit {code})")
        await self._ping("success" if outcome == "success" else "failure", code)
        hook = self.job.on_success if outcome == "success" else self.job.on_failure
        if not hook:
            return
        facts = {f"SPACE_MIRROR_{k.upper()}": "" if v is None else str(v)
                 for k, v in summary.as_dict().items()}
        facts["SPACE_MIRROR_LOG"] = str(self.job.log_file)
        result = await notify.run_hook(hook, facts, os.environ, self.job.hook_timeout,
                                       self._env_file_names)
        if result.problem:
            self.complain(f"warning: {result.problem} ({_first_word(hook)}); "
                          "the run's exit code is unchanged")
            self._append_log(f"[{now().isoformat(timespec='seconds')}] space-mirror hook: "
                             f"{result.problem} run={self.run_id}")



def _first_word(command: str) -> str:
    return command.split()[0] if command.split() else command
