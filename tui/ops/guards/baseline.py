"""What the last successful sync counted, carried from run to run in the job's JSON summary
(`summary_file`): `last_success_source_files` / `last_success_dest_files` change only after a
successful sync. The summary records the source and destination it was counted for; a
baseline recorded for another pair is never used. A real sync marks itself interrupted in the
summary before rclone starts and clears the mark when it ends, so a run killed outright
(SIGKILL, OOM, power loss) still leaves the evidence that partial files may be left."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tui.config import Job
from tui.core.remotes import display_remote
from tui.core.units import count
from tui.ops.safefile import read_private, write_atomic


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
    return Baseline(count(data.get("last_success_source_files")),
                    count(data.get("last_success_dest_files")),
                    run_id if isinstance(run_id, str) else None,
                    count(data.get("interrupted_since_success")) or 0)


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


