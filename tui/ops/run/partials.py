"""What a stopped sync left at the destination: rclone's `name.XXXXXXXX.partial` files, the
one home for counting and removing them.

A local destination is walked; an sftp one is listed by rclone (bounded by a timeout, since
the server may be the thing that hung). Any other backend: we cannot tell cheaply, so the
end marker says that partial files may remain.

Removing them before the next sync (`clean`) is the engine's one policy. Left to rclone, a
partial file is handled twice at once: rclone 1.75 removes a stale partial file when it
uploads its file again, while the sync also deletes it as extraneous, so the first attempt
fails (`Couldn't delete: … no such file or directory`, `Attempt 1/3 failed`) and the run
recovers only because --retries is at least 2; each one also counted against --max-delete.
Only rclone's own temporary names are removed, and never one that the source itself holds.

rclone before 1.63 (Debian 12's 1.60.1) writes local files in place, under their real
names: a file in flight when rclone stopped is left cut short (`cut_short`). Those are the
in-flight files (rclone's last stats line) whose size at the destination is not the size
rclone was copying; the next run replaces them.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable
from pathlib import Path

from tui.config import Job, is_local
from tui.core.stats import Transfer
from tui.ops import rclone_probe

SUFFIX = ".partial"
# rclone's temporary name: the file's name, a dot, 8 random characters, `.partial`.
TEMP_NAME = re.compile(r"\.[0-9A-Za-z]{8}\.partial$")


def is_temp_name(name: str) -> bool:
    return TEMP_NAME.search(name) is not None


def count_local(root: Path) -> int:
    found = 0
    for _dir, _subdirs, files in os.walk(root):
        found += sum(1 for f in files if f.endswith(SUFFIX))
    return found


def _list_sftp(rclone: str, destination: str, env: dict[str, str],
               timeout: float) -> list[str] | None:
    try:
        out = subprocess.run(
            [rclone, "lsf", "-R", "--files-only", "--include", f"*{SUFFIX}", destination,
             *_limits(timeout)],
            env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return [line for line in out.stdout.splitlines() if line.endswith(SUFFIX)]


def count_sftp(rclone: str, destination: str, env: dict[str, str], timeout: float) -> int | None:
    names = _list_sftp(rclone, destination, env, timeout)
    return None if names is None else len(names)


def count_left(job: Job, rclone: str, env: dict[str, str], timeout: float) -> int | None:
    """The number of `.partial` files at the destination, or None when unknown."""
    if is_local(job.destination):
        root = Path(job.destination)
        return count_local(root) if root.is_dir() else 0
    if job.backend == "sftp":
        return count_sftp(rclone, job.destination, env, timeout)
    return None


def writes_in_place(rclone: str) -> bool:
    info = rclone_probe.probe(Path(rclone))
    return info is not None and not info.caps.partial_names


def cut_short(job: Job, rclone: str, in_flight: Iterable[Transfer]) -> int | None:
    """In-flight files an in-place rclone left cut short under their real names: 0 for an
    rclone that writes `.partial` names, None when the destination is not local."""
    flying = list(in_flight)
    if not flying or not writes_in_place(rclone):
        return 0
    if not is_local(job.destination):
        return None
    root = Path(job.destination)
    found = 0
    for t in flying:
        try:
            size = (root / t.name).stat().st_size
        except (OSError, ValueError):
            continue
        if size != t.size:
            found += 1
    return found


def remains_text(found: int | None, cut: int | None = 0) -> str:
    if found is None or cut is None:
        return "partial files may remain at the destination (the next run removes them)"
    parts = []
    if found:
        noun = "partial file remains" if found == 1 else "partial files remain"
        parts.append(f"{found} {noun}")
    if cut:
        parts.append("1 file cut short remains under its real name" if cut == 1 else
                     f"{cut} files cut short remain under their real names")
    if not parts:
        return "no partial file remains at the destination"
    fix = "the next run replaces them" if cut else "the next run removes them"
    return f"{' and '.join(parts)} at the destination ({fix})"


def _stale(rel: str, source: str) -> bool:
    """rclone's temporary name, and no file of that name in a local source (a real file
    that happens to look like one is mirrored, never removed)."""
    if not is_temp_name(rel):
        return False
    return not (is_local(source) and os.path.lexists(os.path.join(source, rel)))


def clean(job: Job, rclone: str, env: dict[str, str], timeout: float) -> int | None:
    """Remove the partial files a stopped run left; how many, or None when this destination
    cannot be listed cheaply (rclone then handles them, and the delete guard allows for
    them)."""
    if is_local(job.destination):
        root = Path(job.destination)
        if not root.is_dir():
            return 0
        removed = 0
        for folder, _subdirs, files in os.walk(root):
            for name in files:
                path = os.path.join(folder, name)
                if _stale(os.path.relpath(path, root), job.source):
                    try:
                        os.unlink(path)
                        removed += 1
                    except FileNotFoundError:
                        pass
        return removed
    if job.backend != "sftp":
        return None
    names = _list_sftp(rclone, job.destination, env, timeout)
    if names is None:
        return None
    stale = [n for n in names if _stale(n, job.source)]
    for name in stale:
        try:
            sep = "" if job.destination.endswith((":", "/")) else "/"
            subprocess.run([rclone, "deletefile", f"{job.destination}{sep}{name}",
                            *_limits(timeout)], env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
    return len(stale)


def _limits(timeout: float) -> list[str]:
    t = f"{max(1, int(timeout))}s"
    return ["--contimeout", t, "--timeout", t, "--retries", "1", "--low-level-retries", "1"]
