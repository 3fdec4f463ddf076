"""What a verify leaves beside the job's summary (root's state folder, written through
safefile): the rotation's state (`NAME.verify-rotation.json`: the next slice, the runs done,
each slice's last check) and the list of files the last verify checked
(`NAME.verify-files.txt`, rclone check's `--combined` lines: `= path` identical, `+` missing
on the destination, `*` differ, `!` unreadable)."""

from __future__ import annotations

import json
from pathlib import Path

from tui.config import Job
from tui.core import rotation
from tui.ops import safefile

FILES_LIMIT = 64 * 1024 * 1024  # beyond this, only the differences are kept


def rotation_path(job: Job) -> Path:
    return job.summary_path.with_name(f"{job.name}.verify-rotation.json")


def files_path(job: Job) -> Path:
    return job.summary_path.with_name(f"{job.name}.verify-files.txt")


def read_rotation(job: Job) -> rotation.Rotation | None:
    """The rotation's state; None when there is none (or it cannot be trusted)."""
    try:
        return rotation.loads(safefile.read_private(rotation_path(job)))
    except OSError:
        return None


def write_rotation(job: Job, state: rotation.Rotation) -> str | None:
    """A warning when it cannot be written (the next verify then checks this slice again)."""
    path = rotation_path(job)
    try:
        safefile.write_atomic(path, (json.dumps(state.as_json(), indent=1) + "\n").encode(),
                              0o600)
    except OSError as exc:
        return f"could not write {path}: {exc.strerror or exc}; the next verify checks " \
               "this slice again"
    return None


def keep_files(job: Job, combined: Path) -> str | None:
    """Keep rclone check's list of the files it checked; a warning when it cannot."""
    path = files_path(job)
    try:
        size = combined.stat().st_size
        data = combined.read_bytes() if size <= FILES_LIMIT else b"".join(
            ln for ln in combined.open("rb") if not ln.startswith(b"= "))
        safefile.write_atomic(path, data, 0o600)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"could not write {path}: {exc.strerror or exc}"
    return None
