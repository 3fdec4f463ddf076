"""`space-mirror verify`: is the mirror really intact? A sampled `rclone check --one-way`.

lock (mode verify) → pre-flight → list the source (`rclone lsf -R --files-only`) → draw a
sample → write it to a private temporary `--files-from-raw` list → start marker →
`rclone check SOURCE DEST --one-way --combined …` (credentials in its environment only, its
log lines into the job's log) → end marker with the differences classified → metrics.

The exit code is rclone check's (0: no differences; 1: differences found or errors) or ours
(64, 75, 78, 128+N), as for `run`.
"""

from __future__ import annotations

import random
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TextIO

from tui.config import Job
from tui.core import exitcodes, rotation
from tui.core import verify as core
from tui.core.markers import VERIFY, MarkerKind
from tui.core.remedy import verify_remedy
from tui.core.remotes import display_remote
from tui.ops import credentials, lock, preflight, rclone_probe, verify_state
from tui.ops.monitor import prom, verify_metrics
from tui.ops.run import locking
from tui.ops.run.context import new_run_id
from tui.ops.run.journal import Journal
from tui.ops.run.rclone import RcloneProcess

LIST_TIMEOUT = 6 * 3600.0


@dataclass
class VerifyOptions:
    percent: float = core.DEFAULT_PERCENT
    seed: int | None = None  # a fixed sample (tests, or re-checking the same files)
    started_by: str = "cli"
    # Compare the bytes (rclone check --download) instead of the hashes the remote reports.
    download: bool = False
    # Check slice K of N (`--hash-filter K/N`), K advancing with each verify run: every file
    # is checked once within N runs (tui/core/rotation.py). None: a random sample.
    rotate: int | None = None


@dataclass
class _State:
    proc: RcloneProcess | None = None
    signal_name: str | None = None
    started: float = field(default_factory=time.time)
    rotation: rotation.Rotation | None = None  # the rotation this verify continues


class Verifier:
    """A verify on the run engine (tui/ops/run): its lock, journal and rclone process."""

    def __init__(self, job: Job, opts: VerifyOptions, out: TextIO | None = None,
                 err: TextIO | None = None) -> None:
        self.job = job
        self.opts = opts
        self.journal = Journal(job.log_file, out, err)
        self.journal.keep = credentials.identifiers(job.name, job.source, job.destination,
                                                    job.log_file)
        self.run_id = new_run_id()
        self.state = _State()

    def say(self, text: str) -> None:
        self.journal.say(text)

    def complain(self, text: str) -> None:
        self.journal.complain(text)

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
        if proc is not None:
            if first:
                proc.stop()
            else:
                proc.kill()

    def _run_locked(self) -> int:
        record = locking.record_for(self.job.name, self.run_id, VERIFY, str(self.job.log_file),
                                    self.opts.started_by)
        got = locking.acquire(self.job, record, self.journal, "not verifying now")
        if isinstance(got, int):
            return got
        try:
            return self._run_with_lock(got)
        finally:
            got.release()

    def _run_with_lock(self, held: lock.HeldLock) -> int:
        results, ctx = preflight.run_checks(self.job, False, True)
        self.journal.secrets = ctx.secrets
        if self.state.signal_name:
            return self._stopped()
        bad = preflight.failed(results)
        if bad:
            for r in preflight.causes(results):
                self.complain(r.line())
            self.journal.complained = self.journal.unusable = any(r.name == "log" for r in bad)
            why = "pre-flight: " + "; ".join(f"{r.name}: {r.detail}"
                                             for r in preflight.causes(results))
            return self._refused(why, {})
        assert ctx.rclone is not None and ctx.env is not None
        if self.opts.rotate is not None:
            problem = rotation.hash_filter_problem(rclone_probe.version_text(ctx.rclone))
            if problem is not None:
                return self._refused(problem, {})
        workdir = Path(tempfile.mkdtemp(prefix="space-mirror-verify-"))  # 0700, ours
        try:
            return self._sample_and_check(ctx.rclone, ctx.env, held, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _sample_and_check(self, rclone: Path, env: dict[str, str], held: lock.HeldLock,
                          workdir: Path) -> int:
        if self.opts.rotate is not None:
            return self._rotate(rclone, env, held, workdir, self.opts.rotate)
        listing = workdir / "listing"
        total, problem = self._list_source(rclone, env, held, listing)
        if self.state.signal_name:
            return self._stopped()
        if problem is not None:
            return self._refused(problem, {})
        picks = core.pick_indexes(total, self.opts.percent, random.Random(self.opts.seed))
        extra = {"sample": f"{self.opts.percent:g}", "sampled": str(len(picks)),
                 "compare": "download" if self.opts.download else "hash",
                 "source_files": str(total), "by": self.opts.started_by}
        if not picks:
            return self._refused("the source lists no files (check the job's filter flags)",
                                 extra)
        files_from = workdir / "files-from"
        _copy_lines(listing, files_from, picks)
        what = f"{len(picks)} of {total} files ({self.opts.percent:g}%)"
        return self._check(rclone, env, held, ["--files-from-raw", str(files_from)], what,
                           len(picks), extra, workdir)

    def _rotate(self, rclone: Path, env: dict[str, str], held: lock.HeldLock, workdir: Path,
                slices: int) -> int:
        """Slice `next` of the rotation: rclone's own `--hash-filter K/N`, no listing."""
        state = rotation.start(verify_state.read_rotation(self.job), slices)
        self.state.rotation = state
        k = state.next
        extra = {"rotate": f"{k}/{slices}", "compare": "download" if self.opts.download
                 else "hash", "by": self.opts.started_by}
        what = f"slice {k} of {slices} (run {state.runs + 1}; --hash-filter {k}/{slices})"
        return self._check(rclone, env, held, ["--hash-filter", f"{k}/{slices}"], what, None,
                           extra, workdir)

    def _list_source(self, rclone: Path, env: dict[str, str], held: lock.HeldLock,
                     listing: Path) -> tuple[int, str | None]:
        """`rclone lsf` of the source into `listing`; (number of files, problem or None)."""
        argv = [str(rclone), "lsf", "-R", "--files-only", "--format", "p", self.job.source,
                *self.job.flags]
        errors = listing.with_suffix(".err")
        proc = RcloneProcess(argv, env, errors, held, self.job.abort_grace, stdout=listing,
                             output_mode=0o600)
        problem = proc.start()
        if problem is not None:
            return 0, f"listing the source failed: {problem}"
        self.state.proc = proc
        deadline = time.monotonic() + LIST_TIMEOUT

        def too_long() -> None:
            if time.monotonic() > deadline:
                proc.stop()

        try:
            code = proc.wait(too_long)
        finally:
            proc.finish()
            self.state.proc = None
        if time.monotonic() > deadline:
            return 0, f"listing the source took longer than {LIST_TIMEOUT / 3600:g} h"
        if code != 0:
            text = errors.read_bytes()[-4096:].decode("utf-8", "replace")
            last = next((ln for ln in reversed(text.splitlines()) if ln.strip()),
                        f"exit code {code}")
            return 0, f"listing the source failed: {last.strip()}"
        return _lines_in(listing), None

    def _check(self, rclone: Path, env: dict[str, str], held: lock.HeldLock,
               selection: list[str], what: str, sampled: int | None, extra: dict[str, str],
               workdir: Path) -> int:
        """`sampled`: the files chosen, or None when rclone chooses (a rotation's slice)."""
        combined = workdir / "combined"
        argv = [str(rclone), "check", self.job.source, self.job.destination, *self.job.flags,
                "--one-way", *selection, "--combined", str(combined),
                *(["--download"] if self.opts.download else []),
                *(["--bwlimit", self.job.bwlimit] if self.job.bwlimit else []),
                "--use-json-log", "--stats", "1s", "--stats-log-level", "INFO", "-v",
                "--log-file", str(self.job.log_file)]
        self.say(f"space-mirror: verify {self.run_id}: checking {what} of {self.job.source} "
                 f"against {display_remote(self.job.destination)}")
        self.journal.start_marker(self.run_id, self.job.name, VERIFY, extra)
        started = time.monotonic()
        proc = RcloneProcess(argv, env, self.job.log_file, held, self.job.abort_grace)
        problem = proc.start()
        if problem is not None:
            return self._ended(exitcodes.CONFIG, core.CheckCounts(), sampled or 0, problem, 0.0)
        self.state.proc = proc
        if self.state.signal_name:
            proc.stop()
        try:
            code = proc.wait()
        finally:
            proc.finish()
        try:
            text = combined.read_text("utf-8", "surrogateescape")
        except OSError:
            text = ""
        result = core.parse_combined(text)
        warning = verify_state.keep_files(self.job, combined)
        if warning:
            self.complain(f"warning: {warning}")
        return self._ended(code, result, result.checked if sampled is None else sampled, None,
                           time.monotonic() - started)

    # -- endings ----------------------------------------------------------------------------
    def _stopped(self) -> int:
        name = self.state.signal_name or "SIGTERM"
        self.complain(f"stopped by {name} before rclone check started")
        return exitcodes.signal_exit_code(int(signal.Signals[name]))

    def _refused(self, why: str, extra: dict[str, str]) -> int:
        self.journal.start_marker(self.run_id, self.job.name, VERIFY, extra)
        self.journal.end_marker(MarkerKind.FAILED, self.run_id, exitcodes.CONFIG,
                                _counters(core.CheckCounts(), 0, 0.0), why)
        self._write_metrics(exitcodes.CONFIG, core.CheckCounts(), 0)
        self.complain(f"verify {self.run_id} not done: {why}")
        return exitcodes.CONFIG

    def _ended(self, code: int, result: core.CheckCounts, sampled: int, problem: str | None,
               elapsed: float) -> int:
        summary = core.summary(result, sampled,
                               "checked" if self.state.rotation is not None else "sampled")
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
            if result.differences and problem is None:
                reason = f"{reason} — {verify_remedy(_class_counts(result))}"
        counters = _counters(result, sampled, elapsed)
        cover = self._advance(kind, code, result, problem)
        if cover is not None:
            counters["coverage"] = f"{cover.ratio:.4f}"
        self.journal.end_marker(kind, self.run_id, code, counters, reason)
        self._write_metrics(code, result, sampled)
        self.say(f"space-mirror: verify {self.run_id} {kind} (exit {code}): {summary}")
        if cover is not None:
            self.say(f"space-mirror: {cover.text()}")
        labels = core.LABELS
        for cls, path in result.examples:
            self.say(f"  {labels[cls]}: {path}")
        if result.differences > len(result.examples):
            self.say(f"  … and {result.differences - len(result.examples)} more "
                     "(the run's ERROR lines are in the log: `space-mirror history`)")
        if result.differences:
            self.say(f"  what to do: {verify_remedy(_class_counts(result))}")
        if problem is None and kind != MarkerKind.ABORTED:
            self._notify(result, summary, cover)
        return code

    def _notify(self, result: core.CheckCounts, summary: str,
                cover: rotation.Coverage | None) -> None:
        from tui.ops.monitor.notify_apprise import notify_verify

        for warning in notify_verify(self.job, self.run_id, result.differences, summary,
                                     result.examples, verify_remedy(_class_counts(result)),
                                     cover, self.journal.secrets):
            self.complain(f"warning: {warning}; the verify's exit code is unchanged")

    def _advance(self, kind: MarkerKind, code: int, result: core.CheckCounts,
                 problem: str | None) -> rotation.Coverage | None:
        """A rotation's slice checked to the end (intact, or with differences found) is
        recorded and the rotation moves on; a stopped or failed check leaves the slice for
        the next verify. The coverage after this run; None without a rotation."""
        state = self.state.rotation
        if state is None:
            return None
        ran = problem is None and kind != MarkerKind.ABORTED and (
            code == 0 or (code == 1 and result.differences > 0))
        if ran:
            state = rotation.advance(state, time.time(), result.checked, result.differences)
            self.state.rotation = state
            warning = verify_state.write_rotation(self.job, state)
            if warning:
                self.complain(f"warning: {warning}")
        return rotation.coverage(state, time.time())

    def _write_metrics(self, code: int, result: core.CheckCounts, sampled: int) -> None:
        rot = self.state.rotation or verify_state.read_rotation(self.job)
        facts = verify_metrics.VerifyFacts(
            job=self.job.name, started=self.state.started, ended=time.time(), exit_code=code,
            success=code == 0 and result.differences == 0, sampled=sampled,
            differences=result.differences, missing=result.missing, differ=result.differ,
            errors=result.errors,
            coverage=None if rot is None else rotation.coverage(rot, time.time()))
        path = verify_metrics.verify_metrics_path(self.job)
        warning = prom.write(path, verify_metrics.verify_text(facts))
        if warning:
            self.complain(f"warning: {warning}")


def _lines_in(path: Path) -> int:
    count = 0
    last = b"\n"
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def _copy_lines(src: Path, dst: Path, picks: list[int]) -> None:
    """Copy the lines of `src` at the (increasing) positions `picks` to `dst`, as bytes."""
    wanted = iter(picks)
    nxt = next(wanted, None)
    with open(src, "rb") as inp, open(dst, "wb") as out:
        for i, line in enumerate(inp):
            if i == nxt:
                out.write(line if line.endswith(b"\n") else line + b"\n")
                nxt = next(wanted, None)
                if nxt is None:
                    break


def _class_counts(result: core.CheckCounts) -> list[tuple[str, int]]:
    return [("missing", result.missing), ("differ", result.differ), ("error", result.errors)]


def _counters(result: core.CheckCounts, sampled: int, elapsed: float) -> dict[str, str]:
    # `errors` is what the history counts (its ERRORS column): here, every difference.
    return {"mode": VERIFY, "sampled": str(sampled), "checks": str(result.checked),
            "errors": str(result.differences), "differences": str(result.differences),
            "missing": str(result.missing), "differ": str(result.differ),
            "unreadable": str(result.errors), "elapsed": f"{elapsed:.1f}"}


def verify_job(job: Job, opts: VerifyOptions) -> int:
    """Entry point for the CLI."""
    return Verifier(job, opts).run()
