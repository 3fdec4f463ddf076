"""The delete guard: the cap the runner always hands rclone as --max-delete on a real sync:
the smaller of `max_delete` and `max_delete_percent` of the destination's files; 50 % of the
destination's files when neither is set; exactly N with `--allow-deletes N`; plus, after an
interrupted run, an allowance for the partial files it cannot count (those it can count are
removed before the sync: tui/ops/run/partials.py)."""

from __future__ import annotations

import json
import math
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.config import Job
from tui.core.units import count
from tui.ops.guards.baseline import Baseline

DEFAULT_DELETE_PERCENT = 50.0


@dataclass(frozen=True)
class DeleteGuard:
    limit: int
    why: str
    dest_files: int | None

    def describe(self) -> str:
        return f"{self.limit} ({self.why})"



# -- the delete guard -----------------------------------------------------------------------
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

    found = partials.count_left(job, rclone, dict(env), min(job.remote_timeout, 10.0))
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
    extra = job.transfers * runs
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
    return count(data.get("count")) if isinstance(data, dict) else None


def destination_files(job: Job, baseline: Baseline, rclone: Path | None,
                      env: Mapping[str, str] | None) -> int | None:
    if baseline.dest_files is not None:
        return baseline.dest_files
    if rclone is None or env is None:
        return None
    return count_remote_files(rclone, job, env)
