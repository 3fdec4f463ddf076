"""Guards that keep a sync from wiping the mirror (docs/safety.md says why each exists).

Source sanity, on top of the pre-flight, before rclone starts:
  empty     the source holds no file at all (counted recursively)      --force does NOT override
  sentinel  the job's sentinel file is missing from the source         --force overrides
  ratio     the source holds fewer than min_source_ratio of the files
            the last successful sync counted                           --force overrides

Delete guard: the cap the runner always hands rclone as --max-delete on a real sync: the
smaller of `max_delete` and `max_delete_percent` of the destination's files; 50 % of the
destination's files when neither is set; exactly N with `--allow-deletes N`.

The counts live in the job's JSON summary (`summary_file`), carried from run to run:
`last_success_source_files` / `last_success_dest_files` change only after a successful sync.
The summary records the source and destination it was counted for; a baseline recorded for
another pair is never used. A real sync marks itself interrupted in the summary before rclone
starts and clears the mark when it ends, so a run killed outright (SIGKILL, OOM, power loss)
still leaves the evidence the partial-file allowance needs.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tui.config import Job, is_local
from tui.ops.credentials import display_remote
from tui.ops.preflight import CheckResult
from tui.ops.safefile import read_private, write_atomic

DEFAULT_DELETE_PERCENT = 50.0
EMPTY, SENTINEL, RATIO = "empty", "sentinel", "ratio"
OVERRIDABLE = frozenset({SENTINEL, RATIO})


@dataclass(frozen=True)
class Guard(CheckResult):
    """A source guard: a check like the pre-flight's, shown the same way."""

    @property
    def overridable(self) -> bool:
        return self.name in OVERRIDABLE


@dataclass(frozen=True)
class Baseline:
    """What the last successful sync recorded (None: never recorded)."""

    source_files: int | None = None
    dest_files: int | None = None
    run_id: str | None = None
    # Real syncs that ran rclone and did not succeed since the last success. Each may have
    # left up to --transfers `.partial` files at the destination, which the next sync
    # deletes, and rclone counts those deletes against --max-delete.
    interrupted: int = 0
    # The summary was recorded for another source or destination ("SRC → DST"): its counts
    # were dropped, and the guard lines say so.
    foreign: str | None = None


@dataclass(frozen=True)
class SourceVerdict:
    guards: list[Guard]
    source_files: int | None  # None for a remote source (not counted)
    refused: list[Guard] = field(default_factory=list)  # failed, and not overridden
    overridden: list[Guard] = field(default_factory=list)  # failed, overridden by --force

    @property
    def ok(self) -> bool:
        return not self.refused

    def forced_field(self) -> str:
        """The start marker's `forced=` value: the guards --force overrode, or `none`."""
        return ",".join(g.name for g in self.overridden) or "none"


@dataclass(frozen=True)
class DeleteGuard:
    limit: int
    why: str
    dest_files: int | None

    def describe(self) -> str:
        return f"{self.limit} ({self.why})"


# -- counting -------------------------------------------------------------------------------
def count_files(root: Path) -> int:
    """Regular files under `root`, recursively, without following symlinks (rclone skips
    them by default). An unreadable folder counts as empty, which errs towards refusing."""
    count = 0
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                for entry in it:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
                        elif entry.is_file(follow_symlinks=False):
                            count += 1
                    except OSError:
                        continue
        except OSError:
            continue
    return count


# -- the summary's baseline -----------------------------------------------------------------
def read_baseline(summary_path: Path, job: Job | None = None) -> Baseline:
    """The baseline in the summary; empty when there is none, or when `job` is given and the
    summary was recorded for another source or destination (an ad-hoc run's counts must never
    judge the real job's source). A summary written before identities were recorded has no
    pair and is taken as the job's own."""
    try:
        data: Any = json.loads(summary_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Baseline()
    if not isinstance(data, dict):
        return Baseline()
    if job is not None:
        recorded = (data.get("source"), data.get("destination"))
        if recorded != (None, None) and recorded != identity(job):
            return Baseline(foreign=f"{recorded[0]} → {recorded[1]}")
    run_id = data.get("last_success_run_id")
    return Baseline(_int(data.get("last_success_source_files")),
                    _int(data.get("last_success_dest_files")),
                    run_id if isinstance(run_id, str) else None,
                    _int(data.get("interrupted_since_success")) or 0)


def identity(job: Job) -> tuple[str, str]:
    """What a summary's counts belong to: the source and the destination (as shown, so a
    credential inside a connection string is never written)."""
    return job.source, display_remote(job.destination)


def summary_fields(previous: Baseline, run_id: str, synced_ok: bool,
                   source_files: int | None, interrupted: bool = False,
                   job: Job | None = None) -> dict[str, object]:
    """Fields for this run's JSON summary. A successful real sync makes the destination
    equal the source, so both counts become the source count taken at its start; any other
    run carries the previous baseline forward unchanged. `interrupted`: this real sync ran
    rclone and did not succeed (it may have left partial files behind)."""
    base = previous
    if synced_ok and source_files is not None:
        base = Baseline(source_files, source_files, run_id, 0)
    elif interrupted:
        base = replace(previous, interrupted=previous.interrupted + 1)
    pair = {} if job is None else dict(zip(("source", "destination"), identity(job),
                                           strict=True))
    return {
        **pair,
        "source_files": source_files,
        "last_success_run_id": base.run_id,
        "last_success_source_files": base.source_files,
        "last_success_dest_files": base.dest_files,
        "interrupted_since_success": base.interrupted,
    }


def presume_interrupted(job: Job, previous: Baseline, run_id: str,
                        source_files: int | None) -> str | None:
    """Before rclone starts a real sync: record it in the summary as interrupted, with the
    run in progress, so that a runner killed outright leaves that evidence behind. The end
    of the run rewrites the summary with its real outcome. A warning, or None."""
    try:  # never through a symlink: its target's JSON would be copied into our summary
        current: Any = json.loads(read_private(job.summary_path) or b"{}")
    except (OSError, ValueError):
        current = {}
    if not isinstance(current, dict):
        current = {}
    current.update(summary_fields(previous, run_id, False, source_files, interrupted=True,
                                  job=job))
    current["in_progress_run_id"] = run_id
    try:
        write_atomic(job.summary_path, (json.dumps(current, indent=2) + "\n").encode("utf-8"))
    except OSError as exc:
        return f"could not write {job.summary_path}: {exc.strerror or exc}"
    return None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


# -- source sanity --------------------------------------------------------------------------
def source_guards(job: Job, source_files: int | None, baseline: Baseline) -> list[Guard]:
    """The three source guards; a remote source is not counted (each guard says so)."""
    if source_files is None:
        return [Guard(EMPTY, True, f"{job.source} is remote; not counted locally")]
    src = Path(job.source)
    guards: list[Guard] = []
    if source_files == 0:
        guards.append(Guard(EMPTY, False,
                            f"{src} holds no files: a sync would delete the whole mirror",
                            "mount the source file system, or restore its content"))
    else:
        guards.append(Guard(EMPTY, True, f"{src} holds {source_files} files"))
    if job.sentinel:
        marker = src / job.sentinel
        if marker.exists():
            guards.append(Guard(SENTINEL, True, f"{job.sentinel} is present"))
        else:
            guards.append(Guard(
                SENTINEL, False,
                f"{marker} is missing: this may not be the file system the mirror was made from",
                f"mount the right file system on {src}; if this source is right, create "
                f"{job.sentinel} in it, or run once with --force"))
    ratio = job.min_source_ratio
    if baseline.foreign is not None and ratio > 0:
        guards.append(Guard(RATIO, True, f"no baseline yet for this source and destination "
                            f"(the summary was recorded for {baseline.foreign})"))
    if baseline.source_files and ratio > 0:
        floor = ratio * baseline.source_files
        share = source_files / baseline.source_files
        if source_files < floor:
            guards.append(Guard(
                RATIO, False,
                f"{src} holds {source_files} files, {share:.0%} of the {baseline.source_files} "
                f"the last successful sync counted (minimum {ratio:.0%})",
                "check that the source is complete and mounted; if the files were removed on "
                "purpose, run once with --force (the delete guard still applies)"))
        else:
            guards.append(Guard(RATIO, True, f"{source_files} files, {share:.0%} of the last "
                                f"successful sync's {baseline.source_files}"))
    return guards


def check_source(job: Job, force: bool, baseline: Baseline | None = None) -> SourceVerdict:
    """Count the source and judge it. `force` overrides every guard but `empty`."""
    base = baseline if baseline is not None else read_baseline(job.summary_path, job)
    count = count_files(Path(job.source)) if is_local(job.source) else None
    guards = source_guards(job, count, base)
    failed = [g for g in guards if not g.ok]
    overridden = [g for g in failed if force and g.overridable]
    refused = [g for g in failed if g not in overridden]
    return SourceVerdict(guards, count, refused, overridden)


# -- the delete guard -----------------------------------------------------------------------
def transfers_flag(job: Job) -> int:
    """The job's --transfers (rclone's default is 4)."""
    flags = list(job.flags)
    for i, flag in enumerate(flags):
        name, _, value = flag.partition("=")
        if name == "--transfers":
            raw = value or (flags[i + 1] if i + 1 < len(flags) else "")
            if raw.isdigit():
                return int(raw)
    return 4


@dataclass(frozen=True)
class PartialsLeft:
    """Partial files interrupted runs left at the destination, which the next sync deletes
    (rclone counts each against --max-delete). `found`: counted there now; None when the
    backend cannot be counted cheaply, and then `interrupted` runs may have left some."""

    found: int | None
    interrupted: int


# When they cannot be counted: at most this many interrupted runs in a row are allowed for.
MAX_INTERRUPTED_COUNTED = 3


def partials_at_destination(job: Job, baseline: Baseline, rclone: str,
                            env: Mapping[str, str]) -> PartialsLeft:
    """Counted only after an interrupted run: a clean history leaves none to count."""
    if not baseline.interrupted:
        return PartialsLeft(0, 0)
    from tui.ops.run import partials

    found = partials.count(job, rclone, dict(env), min(job.remote_timeout, 10.0))
    return PartialsLeft(found, baseline.interrupted)


def partial_allowance(job: Job, left: PartialsLeft) -> tuple[int, str]:
    """Deletes to allow beyond the guard for the partial files really at the destination,
    and why; (0, "") when there are none. Without this, the recovery run after an abort
    fails at the guard when the mirror is small (seen: 50% of 0 files)."""
    if left.found is not None:
        if not left.found:
            return 0, ""
        noun = "file" if left.found == 1 else "files"
        return left.found, f"+ {left.found} for the partial {noun} at the destination"
    if not left.interrupted:
        return 0, ""
    runs = min(left.interrupted, MAX_INTERRUPTED_COUNTED)
    extra = transfers_flag(job) * runs
    return extra, (f"+ up to {extra} for partial files {runs} interrupted "
                   f"run{'s' if runs > 1 else ''} may have left (not countable on this "
                   "destination)")


def delete_guard(job: Job, dest_files: int | None, allow: int | None = None,
                 left: PartialsLeft | None = None) -> DeleteGuard:
    """The --max-delete value for a real sync (see the module doc)."""
    if allow is not None:
        return DeleteGuard(max(0, allow), f"--allow-deletes {allow}", dest_files)
    guard = _configured_guard(job, dest_files)
    extra, why = partial_allowance(job, left or PartialsLeft(0, 0))
    if extra:
        return DeleteGuard(guard.limit + extra, f"{guard.why}, {why}", dest_files)
    return guard


def _configured_guard(job: Job, dest_files: int | None) -> DeleteGuard:
    caps: list[tuple[int, str]] = []
    if job.max_delete is not None:
        caps.append((job.max_delete, f"max_delete = {job.max_delete}"))
    percent = job.max_delete_percent
    if percent is None and job.max_delete is None:
        percent = DEFAULT_DELETE_PERCENT
        label = "default"
    else:
        label = "max_delete_percent"
    if percent is not None:
        if dest_files is None:
            caps.append((0, f"{label} {percent:g}% of an unknown destination file count"))
        else:
            n = math.floor(dest_files * min(percent, 100.0) / 100.0)
            caps.append((n, f"{label} {percent:g}% of {dest_files} destination files"))
    limit, why = min(caps, key=lambda c: c[0])
    return DeleteGuard(limit, why, dest_files)


def count_remote_files(rclone: Path, job: Job, env: Mapping[str, str]) -> int | None:
    """Files at the destination by `rclone size --json`; 0 when it does not exist yet,
    None when it cannot be listed. Costs one full listing: used only when the summary has
    no count from a successful sync."""
    argv = [str(rclone), "size", "--json", job.destination,
            "--contimeout", f"{max(1, int(job.remote_timeout // 2))}s",
            "--timeout", f"{max(1, int(job.remote_timeout))}s"]
    if "--fast-list" in job.flags:
        argv.append("--fast-list")
    try:
        proc = subprocess.run(argv, env=dict(env), capture_output=True, stdin=subprocess.DEVNULL,
                              timeout=max(60.0, job.remote_timeout * 30))
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode == 3:
        return 0  # directory not found: a first sync creates it
    if proc.returncode != 0:
        return None
    try:
        data: Any = json.loads(proc.stdout)
    except ValueError:
        return None
    return _int(data.get("count")) if isinstance(data, dict) else None


def destination_files(job: Job, baseline: Baseline, rclone: Path | None,
                      env: Mapping[str, str] | None) -> int | None:
    if baseline.dest_files is not None:
        return baseline.dest_files
    if rclone is None or env is None:
        return None
    return count_remote_files(rclone, job, env)
