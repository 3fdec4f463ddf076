"""What an aborted sync left at the destination: its `.partial` files, counted, and the
files an older rclone cut short in place.

A local destination is walked; an sftp one is listed by rclone (bounded by a timeout, since
the server may be the thing that hung). Any other backend: we cannot tell cheaply, so the
end marker says that partial files may remain.

rclone before 1.63 (Debian 12's 1.60.1) writes local files in place, under their real
names: a file in flight when rclone stopped is left cut short. Those are the in-flight files
(rclone's last stats line) whose size at the destination is not the size rclone was copying.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tui.config import Job, is_local
from tui.core.stats import Transfer
from tui.ops import rclone_probe

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


@dataclass(frozen=True, slots=True)
class Leftovers:
    partial: int  # `.partial` files
    cut_short: int = 0  # real names, written in place and cut short


def cut_short_local(root: Path, in_flight: Iterable[Transfer]) -> int:
    """In-flight files whose destination copy exists with another size than rclone's."""
    found = 0
    for t in in_flight:
        try:
            size = (root / t.name).stat().st_size
        except (OSError, ValueError):
            continue
        if size != t.size:
            found += 1
    return found


def writes_in_place(rclone: str) -> bool:
    info = rclone_probe.probe(Path(rclone))
    return info is not None and not info.caps.partial_names


def count(job: Job, rclone: str, env: dict[str, str], timeout: float,
          in_flight: tuple[Transfer, ...] = ()) -> Leftovers | None:
    """What remains at the destination, or None when unknown."""
    in_place = bool(in_flight) and writes_in_place(rclone)
    if is_local(job.destination):
        root = Path(job.destination)
        if not root.is_dir():
            return Leftovers(0)
        return Leftovers(count_local(root), cut_short_local(root, in_flight) if in_place else 0)
    if in_place:
        return None  # an older rclone's cut-short files there have their real names
    if job.backend == "sftp":
        found = count_sftp(rclone, job.destination, env, timeout)
        return None if found is None else Leftovers(found)
    return None


def remains_text(found: Leftovers | None) -> str:
    if found is None:
        return "partial files may remain at the destination (the next run removes them)"
    parts = []
    if found.partial:
        noun = "partial file remains" if found.partial == 1 else "partial files remain"
        parts.append(f"{found.partial} {noun}")
    if found.cut_short:
        noun = ("file cut short remains" if found.cut_short == 1
                else "files cut short remain")
        parts.append(f"{found.cut_short} {noun} under its real name"
                     if found.cut_short == 1 else
                     f"{found.cut_short} {noun} under their real names")
    if not parts:
        return "no partial file remains at the destination"
    fix = "the next run removes them" if not found.cut_short else "the next run replaces them"
    return f"{' and '.join(parts)} at the destination ({fix})"
