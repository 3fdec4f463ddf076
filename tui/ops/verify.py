"""`space-mirror verify`: is the mirror really intact? A sampled `rclone check --one-way`.

lock (mode verify) → pre-flight → list the source (`rclone lsf -R --files-only`) → draw a
sample → write it to a private temporary `--files-from-raw` list → start marker →
`rclone check SOURCE DEST --one-way --combined …` (credentials in its environment only, its
log lines into the job's log) → end marker with the differences classified → metrics.

The exit code is rclone check's (0: no differences; 1: differences found or errors) or ours
(64, 75, 78, 128+N), as for `run`.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TextIO

from tui.config import Job
from tui.core import exitcodes
from tui.core import verify as core
from tui.core.markers import VERIFY, MarkerKind, format_end, format_start, now
from tui.ops import credentials, lock, preflight, verify_metrics
from tui.ops.runner import new_run_id

LIST_TIMEOUT = 6 * 3600.0


@dataclass
class VerifyOptions:
    percent: float = core.DEFAULT_PERCENT
    seed: int | None = None  # a fixed sample (tests, or re-checking the same files)
    started_by: str = "cli"
    # Compare the bytes (rclone check --download) instead of the hashes the remote reports.
    download: bool = False


@dataclass
class _State:
    proc: subprocess.Popen[bytes] | None = None
    signal_name: str | None = None
    started: float = field(default_factory=time.time)


class Verifier:
    def __init__(self, job: Job, opts: VerifyOptions, out: TextIO | None = None,
                 err: TextIO | None = None) -> None:
        self.job = job
        self.opts = opts
        self.out = out if out is not None else sys.stdout
        self.err = err if err is not None else sys.stderr
        self.run_id = new_run_id()
        self.secrets: frozenset[str] = frozenset()
        self.state = _State()

    def say(self, text: str) -> None:
        print(credentials.redact(text, self.secrets), file=self.out, flush=True)

    def complain(self, text: str) -> None:
        print(credentials.redact(f"space-mirror: {text}", self.secrets), file=self.err,
              flush=True)

    def _append_log(self, line: str) -> None:
        data = (credentials.redact(line, self.secrets) + "\n").encode("utf-8", "replace")
        try:
            fd = os.open(self.job.log_file,
                         os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
        except OSError as exc:
            self.complain(f"cannot write to log {self.job.log_file}: {exc.strerror}")

    # -- the run ----------------------------------------------------------------------------
    def run(self) -> int:
        previous = {s: signal.signal(s, self._on_signal)
                    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        try:
            return self._run_locked()
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        first = self.state.signal_name is None
        if first:
            self.state.signal_name = signal.Signals(signum).name
        proc = self.state.proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM if first else signal.SIGKILL)

    def _run_locked(self) -> int:
        record = lock.LockRecord(
            pid=os.getpid(), run_id=self.run_id, job=self.job.name, mode=VERIFY,
            log=str(self.job.log_file), started=now().isoformat(timespec="seconds"),
            started_by=self.opts.started_by)
        try:
            got = lock.try_acquire(self.job.lock_path, record)
        except lock.LockError as exc:
            self.complain(f"{exc}; fix: set lock_file to a writable place")
            return exitcodes.CONFIG
        if not isinstance(got, lock.HeldLock):
            who = f"pid {got.pid}, run {got.run_id}, mode {got.mode}" if got else "holder unknown"
            self.complain(f"job {self.job.name!r} is busy ({who}); not verifying now")
            return exitcodes.LOCKED
        try:
            return self._run_with_lock(got)
        finally:
            got.release()

    def _run_with_lock(self, held: lock.HeldLock) -> int:
        results, ctx = preflight.run_checks(self.job, False, True)
        self.secrets = ctx.secrets
        if self.state.signal_name:
            return self._stopped()
        if preflight.failed(results):
            for r in preflight.causes(results):
                self.complain(r.line())
            why = "pre-flight: " + "; ".join(f"{r.name}: {r.detail}"
                                             for r in preflight.causes(results))
            return self._refused(why, {})
        assert ctx.rclone is not None and ctx.env is not None
        names, problem = self._list_source(ctx.rclone, ctx.env)
        if self.state.signal_name:
            return self._stopped()
        if problem is not None:
            return self._refused(problem, {})
        rng = random.Random(self.opts.seed)
        chosen = core.sample(names, self.opts.percent, rng)
        extra = {"sample": f"{self.opts.percent:g}", "sampled": str(len(chosen)),
                 "compare": "download" if self.opts.download else "hash",
                 "source_files": str(len(names)), "by": self.opts.started_by}
        if not chosen:
            return self._refused("the source lists no files (check the job's filter flags)",
                                 extra)
        workdir = Path(tempfile.mkdtemp(prefix="space-mirror-verify-"))  # 0700
        try:
            return self._check(ctx.rclone, ctx.env, held, chosen, len(names), extra, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _list_source(self, rclone: Path, env: dict[str, str]) -> tuple[list[str], str | None]:
        argv = [str(rclone), "lsf", "-R", "--files-only", "--format", "p", self.job.source,
                *self.job.flags]
        try:
            self.state.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            out, err = self.state.proc.communicate(timeout=LIST_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as exc:
            if self.state.proc is not None and self.state.proc.poll() is None:
                self.state.proc.kill()
                self.state.proc.wait()
            return [], f"listing the source failed: {exc}"
        finally:
            code = self.state.proc.returncode if self.state.proc is not None else None
            self.state.proc = None
        if code != 0:
            last = next((ln for ln in reversed(err.decode("utf-8", "replace").splitlines())
                         if ln.strip()), f"exit code {code}")
            return [], f"listing the source failed: {last.strip()}"
        names = [n for n in out.decode("utf-8", "surrogateescape").split("\n") if n]
        return names, None

    def _check(self, rclone: Path, env: dict[str, str], held: lock.HeldLock,
               chosen: list[str], total: int, extra: dict[str, str], workdir: Path) -> int:
        files_from = workdir / "files-from"
        combined = workdir / "combined"
        files_from.write_bytes(
            "".join(f"{n}\n" for n in chosen).encode("utf-8", "surrogateescape"))
        argv = [str(rclone), "check", self.job.source, self.job.destination, *self.job.flags,
                "--one-way", "--files-from-raw", str(files_from), "--combined", str(combined),
                *(["--download"] if self.opts.download else []),
                *(["--bwlimit", self.job.bwlimit] if self.job.bwlimit else []),
                "--use-json-log", "--stats", "1s", "--stats-log-level", "INFO", "-v",
                "--log-file", str(self.job.log_file)]
        self.say(f"space-mirror: verify {self.run_id}: checking {len(chosen)} of {total} files "
                 f"({self.opts.percent:g}%) of {self.job.source} against "
                 f"{credentials.display_remote(self.job.destination)}")
        self._append_log(format_start(self.run_id, self.job.name, VERIFY, os.getpid(), now(),
                                      extra))
        started = time.monotonic()
        try:
            log_fd = os.open(self.job.log_file,
                             os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        except OSError as exc:
            return self._ended(exitcodes.CONFIG, core.CheckResult(), len(chosen),
                               f"cannot open the log for rclone: {exc.strerror}", 0.0)
        try:
            self.state.proc = subprocess.Popen(
                argv, env=env, stdin=subprocess.DEVNULL, stdout=log_fd, stderr=log_fd,
                start_new_session=True, pass_fds=(held.fd,))
        except OSError as exc:
            return self._ended(exitcodes.CONFIG, core.CheckResult(), len(chosen),
                               f"rclone could not start: {exc.strerror}", 0.0)
        finally:
            os.close(log_fd)
        if self.state.signal_name:
            self.state.proc.terminate()
        returncode = self.state.proc.wait()
        code = returncode if returncode >= 0 else exitcodes.signal_exit_code(-returncode)
        try:
            text = combined.read_text("utf-8", "surrogateescape")
        except OSError:
            text = ""
        result = core.parse_combined(text)
        return self._ended(code, result, len(chosen), None, time.monotonic() - started)

    # -- endings ----------------------------------------------------------------------------
    def _stopped(self) -> int:
        name = self.state.signal_name or "SIGTERM"
        self.complain(f"stopped by {name} before rclone check started")
        return exitcodes.signal_exit_code(int(signal.Signals[name]))

    def _refused(self, why: str, extra: dict[str, str]) -> int:
        self._append_log(format_start(self.run_id, self.job.name, VERIFY, os.getpid(), now(),
                                      extra))
        self._append_log(format_end(MarkerKind.FAILED, self.run_id, exitcodes.CONFIG, now(),
                                    _counters(core.CheckResult(), 0, 0.0), why))
        self._write_metrics(exitcodes.CONFIG, core.CheckResult(), 0)
        self.complain(f"verify {self.run_id} not done: {why}")
        return exitcodes.CONFIG

    def _ended(self, code: int, result: core.CheckResult, sampled: int, problem: str | None,
               elapsed: float) -> int:
        summary = core.summary(result, sampled)
        if code == 0 and result.differences == 0:
            kind, reason = MarkerKind.COMPLETE, None
        elif self.state.signal_name or exitcodes.is_abort(code):
            kind = MarkerKind.ABORTED
            reason = f"stopped by {self.state.signal_name or f'signal {code - 128}'}"
        else:
            kind = MarkerKind.FAILED
            if problem is not None:
                reason = problem
            elif result.differences or code == 1:
                reason = summary if result.differences else exitcodes.meaning(code).meaning
            else:
                reason = f"{exitcodes.meaning(code).meaning} ({summary})"
        self._append_log(format_end(kind, self.run_id, code, now(),
                                    _counters(result, sampled, elapsed), reason))
        self._write_metrics(code, result, sampled)
        self.say(f"space-mirror: verify {self.run_id} {kind} (exit {code}): {summary}")
        labels = core.LABELS
        for cls, path in result.examples:
            self.say(f"  {labels[cls]}: {path}")
        if result.differences > len(result.examples):
            self.say(f"  … and {result.differences - len(result.examples)} more "
                     "(the run's ERROR lines are in the log: `space-mirror history`)")
        return code

    def _write_metrics(self, code: int, result: core.CheckResult, sampled: int) -> None:
        facts = verify_metrics.VerifyFacts(
            job=self.job.name, started=self.state.started, ended=time.time(), exit_code=code,
            success=code == 0 and result.differences == 0, sampled=sampled,
            differences=result.differences, missing=result.missing, differ=result.differ,
            errors=result.errors)
        path = verify_metrics.verify_metrics_path(self.job)
        warning = verify_metrics.write(path, facts)
        if warning:
            self.complain(f"warning: {warning}")


def _counters(result: core.CheckResult, sampled: int, elapsed: float) -> dict[str, str]:
    # `errors` is what the history counts (its ERRORS column): here, every difference.
    return {"mode": VERIFY, "sampled": str(sampled), "checks": str(result.checked),
            "errors": str(result.differences), "differences": str(result.differences),
            "missing": str(result.missing), "differ": str(result.differ),
            "unreadable": str(result.errors), "elapsed": f"{elapsed:.1f}"}


def verify_job(job: Job, opts: VerifyOptions) -> int:
    """Entry point for the CLI."""
    return Verifier(job, opts).run()
