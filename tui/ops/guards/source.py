"""The source, checked in one place: the pre-flight's look (`access`: exists, readable, not
empty, mounted when required), then the guards before rclone starts (`check_source`):
  empty     the source holds no file at all (counted recursively)      --force does NOT override
  sentinel  the job's sentinel file is missing from the source         --force overrides
  ratio     the source holds fewer than min_source_ratio of the files
            the last successful sync counted                           --force overrides
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from tui.config import Job, is_local
from tui.ops.guards.baseline import Baseline, read_baseline
from tui.ops.preflight import CheckResult

EMPTY, SENTINEL, RATIO = "empty", "sentinel", "ratio"
OVERRIDABLE = frozenset({SENTINEL, RATIO})
IGNORED_IN_EMPTY_SOURCE = {"lost+found"}


@dataclass(frozen=True)
class Guard(CheckResult):
    """A source guard: a check like the pre-flight's, shown the same way."""

    @property
    def overridable(self) -> bool:
        return self.name in OVERRIDABLE



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



def access(job: Job) -> list[CheckResult]:
    """The pre-flight's look: exists, readable, not empty (its first entries); and a mount
    point when the job requires one."""
    src = Path(job.source)
    if not is_local(job.source):
        return [CheckResult("source", True, f"{job.source} (remote; not checked locally)")]
    if not src.exists():
        return [CheckResult("source", False, f"{src} does not exist",
                            f"mount or create {src}, or fix the job's source")]
    if not src.is_dir():
        return [CheckResult("source", False, f"{src} is not a directory", "fix the job's source")]
    try:
        with os.scandir(src) as it:
            entries = [e.name for _, e in zip(range(64), it, strict=False)]
    except PermissionError:
        return [CheckResult("source", False, f"{src} is not readable (permission denied)",
                            "run as root, or fix the folder's permissions")]
    except OSError as exc:
        return [CheckResult("source", False, f"{src} cannot be read: {exc.strerror}",
                            "check the disk and the mount")]
    results: list[CheckResult] = []
    content = [e for e in entries if e not in IGNORED_IN_EMPTY_SOURCE]
    if not content:
        results.append(CheckResult(
            "source", False, f"{src} is empty: a sync would delete the whole mirror",
            "mount the source file system, or restore its content"))
    else:
        results.append(CheckResult("source", True, f"{src} is readable and not empty"))
    if job.require_mount:
        if os.path.ismount(src):
            results.append(CheckResult("mount", True, f"{src} is a mount point"))
        else:
            results.append(CheckResult(
                "mount", False, f"{src} is not a mount point (require_mount is set)",
                f"mount the file system on {src}, or set require_mount = false"))
    return results


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
