"""The job lock: an flock()ed file holding a JSON record of who runs.

flock belongs to the open file description, so the descriptor is handed to rclone too: the
lock stays held for as long as rclone lives, even if the runner is killed. A lock file left
by a dead process is not held by anyone, so it is simply taken over.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


class LockError(Exception):
    """The lock file cannot be created or opened (not: the lock is held)."""


@dataclass(frozen=True)
class LockRecord:
    pid: int
    run_id: str
    job: str
    mode: str  # "sync" | "dry-run"
    log: str
    started: str  # ISO 8601
    rclone_pid: int | None = None
    started_by: str = "cli"  # "dashboard" | "cli" (timer or a person at a shell)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> LockRecord | None:
        try:
            # raw_decode: the first JSON value only, whatever a longer old record left after.
            data: Any = json.JSONDecoder().raw_decode(text.lstrip())[0]
            if not isinstance(data, dict):
                return None
            known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
            return cls(**known)
        except (ValueError, TypeError):
            return None


class HeldLock:
    """A lock we hold. `fd` is inheritable on purpose only when passed via pass_fds."""

    def __init__(self, path: Path, fd: int, record: LockRecord) -> None:
        self.path = path
        self.fd = fd
        self.record = record

    def update(self, record: LockRecord) -> None:
        self.record = record
        _write_record(self.fd, record)

    def release(self) -> None:
        if self.fd < 0:
            return
        try:
            os.ftruncate(self.fd, 0)
        except OSError:
            pass
        os.close(self.fd)
        self.fd = -1


def try_acquire(path: Path, record: LockRecord) -> HeldLock | LockRecord | None:
    """Take the lock: a HeldLock on success; the holder's record (or None if unreadable)
    when another process holds it. Raises LockError if the file cannot be opened."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise LockError(f"cannot open lock file {path}: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return read_holder(path)
        raise LockError(f"cannot lock {path}: {exc.strerror}") from None
    _write_record(fd, record)
    return HeldLock(path, fd, record)


def read_holder(path: Path) -> LockRecord | None:
    """The record of whoever holds the lock, or None when nobody holds it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            held = True
        else:
            held = False
            fcntl.flock(fd, fcntl.LOCK_UN)
        if not held:
            return None
        data = os.pread(fd, 65536, 0).decode("utf-8", "replace")
        return LockRecord.from_json(data) or LockRecord(
            pid=0, run_id="?", job="?", mode="?", log="?", started="?"
        )
    finally:
        os.close(fd)


def _write_record(fd: int, record: LockRecord) -> None:
    # New bytes first, then cut what is left of a longer old record: a reader never sees
    # an empty file (truncate-then-write left a window where the holder was unknown).
    data = (record.to_json() + "\n").encode()
    os.pwrite(fd, data, 0)
    os.ftruncate(fd, len(data))
