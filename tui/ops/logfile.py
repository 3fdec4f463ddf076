"""Writing our lines into the job log, on a disk that may be full.

Markers are appended through a checked descriptor (safefile: no symlink, ours alone) and
always start a line of their own, even after a line cut off by a full disk. A page of room
is reserved beside the log before a run (a private file) and freed just before the end
marker, so the end of a run stays on record when rclone has filled the file system.
"""

from __future__ import annotations

import os
from pathlib import Path

from tui.ops import safefile

RESERVE = 4096  # a page: an end marker is a few hundred bytes


def append_line(path: Path, data: bytes, fresh_line: bool = False) -> None:
    """Append `data` (one line, newline included); raises OSError. `fresh_line`: when the
    file's last byte is not a newline, start with one."""
    fd = safefile.append_fd(path)
    try:
        if fresh_line:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                data = b"\n" + data
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def reserve_path(log: Path) -> Path:
    return log.with_name(f".{log.name}.reserve")


def reserve_room(log: Path) -> None:
    """Best effort: a full disk gets no reserve."""
    try:
        fd = safefile.open_private(reserve_path(log), os.O_WRONLY | os.O_CREAT, 0o600)
    except OSError:
        return
    try:
        os.posix_fallocate(fd, 0, RESERVE)
    except OSError:
        pass
    finally:
        os.close(fd)


def free_reserve(log: Path) -> None:
    try:
        os.unlink(reserve_path(log))
    except OSError:
        pass


def file_system_full(log: Path) -> bool:
    """Less than a page left for us where the log is."""
    try:
        st = os.statvfs(log.parent)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < RESERVE
