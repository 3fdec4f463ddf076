"""What an aborted sync left at the destination: its `.partial` files, counted.

A local destination is walked; an sftp one is listed by rclone (bounded by a timeout, since
the server may be the thing that hung). Any other backend: we cannot tell cheaply, so the
end marker says that partial files may remain.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tui.config import Job, is_local

SUFFIX = ".partial"


def count_local(root: Path) -> int:
    found = 0
    for _dir, _subdirs, files in os.walk(root):
        found += sum(1 for f in files if f.endswith(SUFFIX))
    return found


def count_sftp(rclone: str, destination: str, env: dict[str, str], timeout: float) -> int | None:
    try:
        out = subprocess.run(
            [rclone, "lsf", "-R", "--files-only", "--include", f"*{SUFFIX}", destination,
             "--contimeout", f"{max(1, int(timeout))}s", "--timeout", f"{max(1, int(timeout))}s",
             "--retries", "1", "--low-level-retries", "1"],
            env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return sum(1 for line in out.stdout.splitlines() if line.endswith(SUFFIX))


def count(job: Job, rclone: str, env: dict[str, str], timeout: float) -> int | None:
    """The number of `.partial` files at the destination, or None when unknown."""
    if is_local(job.destination):
        root = Path(job.destination)
        return count_local(root) if root.is_dir() else 0
    if job.backend == "sftp":
        return count_sftp(rclone, job.destination, env, timeout)
    return None


def remains_text(found: int | None) -> str:
    if found is None:
        return "partial files may remain at the destination (the next run removes them)"
    if found == 0:
        return "no partial file remains at the destination"
    noun = "partial file remains" if found == 1 else "partial files remain"
    return f"{found} {noun} at the destination (the next run removes them)"
