"""The job lock: an flock()ed file holding a JSON record of who runs.

flock belongs to the open file description, so the descriptor is handed to rclone too: the
lock stays held for as long as rclone lives, even if the runner is killed. A lock file left
by a dead process is not held by anyone, so it is simply taken over.

Nothing another local user can write is believed (docs/security.md): the file is opened with
O_NOFOLLOW and must be ours with mode 0600 (a shared flock needs only read access, so a
readable lock could be held by anyone); a record is believed only when its file is owned by
root or us and writable by nobody else. In the job's own run folder (the default,
/run/space-mirror/JOB/) the folder is flocked too, so deleting the lock file during a run
does not let a second sync start; and a descriptor is kept only when it is still the file
the path names.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import stat
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tui.ops import safefile


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
    # The processes' start times (psutil's create_time): an abort signals a pid only when
    # the process under it is still the one recorded (pid reuse, a forged record).
    pid_start: float | None = None
    rclone_start: float | None = None

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

    def __init__(self, path: Path, fd: int, record: LockRecord, folder_fd: int = -1) -> None:
        self.path = path
        self.fd = fd
        self.folder_fd = folder_fd  # the run folder's flock, when the lock lives in one
        self.record = record

    @property
    def fds(self) -> tuple[int, ...]:
        """Every descriptor that holds the lock: what rclone inherits."""
        return tuple(fd for fd in (self.fd, self.folder_fd) if fd >= 0)

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
        if self.folder_fd >= 0:
            os.close(self.folder_fd)
            self.folder_fd = -1


UNKNOWN = LockRecord(pid=0, run_id="?", job="?", mode="?", log="?", started="?")


@dataclass(frozen=True)
class Holder:
    """Who holds a lock, as far as can be told without trusting anyone else's files."""

    record: LockRecord | None  # None: no record we believe
    problem: str | None  # why there is no believable record (one line), else None
    pids: tuple[int, ...] = ()  # processes holding the flock (/proc/locks)
    since: float | None = None  # unix time the hold began, as far as is known

    def describe(self) -> str:
        if self.record is not None and self.problem is None:
            r = self.record
            return f"pid {r.pid}, run {r.run_id}, started {r.started}"
        who = ", ".join(f"pid {p}" for p in self.pids) or "an unknown process"
        return f"held by {who}, not a runner of this job: {self.problem}"


def try_acquire(path: Path, record: LockRecord,
                folder_lock: bool = False) -> HeldLock | LockRecord | None:
    """Take the lock: a HeldLock on success; the holder's record (UNKNOWN when it has none
    we believe) when another process holds it; None when the lock changed hands between two
    looks, or the run folder is held without a readable lock file (try again, then treat it
    as held). Raises LockError if the file cannot be opened or is not ours.

    `folder_lock`: the lock file's folder belongs to this job alone (its run folder); it is
    made 0700 and flocked as well."""
    folder_fd = -1
    try:
        if folder_lock:
            safefile.make_private_dir(path.parent)
            folder_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
                                | os.O_CLOEXEC)
            if not _flock(folder_fd, path.parent):
                os.close(folder_fd)
                # None (try again) while the holder is between its two flocks; still None
                # after the caller's retries: the lock file was deleted, the folder holds.
                return read_holder(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
        fd = safefile.open_private(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        if folder_fd >= 0:
            os.close(folder_fd)
        raise LockError(f"cannot use lock file {path}: {exc.strerror}") from None
    if not _flock(fd, path):
        os.close(fd)
        if folder_fd >= 0:
            os.close(folder_fd)
        return read_holder(path)
    try:
        now = os.lstat(path)
        same = (now.st_dev, now.st_ino) == (os.fstat(fd).st_dev, os.fstat(fd).st_ino)
    except OSError:
        same = False
    if not same:  # removed or replaced between our open and our flock: not the lock any more
        os.close(fd)
        if folder_fd >= 0:
            os.close(folder_fd)
        return None
    _write_record(fd, record)
    return HeldLock(path, fd, record, folder_fd)


def _flock(fd: int, path: Path) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise LockError(f"cannot lock {path}: {exc.strerror}") from None
    return True


def read_holder(path: Path) -> LockRecord | None:
    """The record of whoever holds the lock (UNKNOWN when it has none we believe), or None
    when nobody holds it."""
    holder = inspect(path)
    if holder is None:
        return None
    return holder.record if holder.problem is None and holder.record else UNKNOWN


def out_of_sight(path: Path) -> str | None:
    """Why this user cannot see the lock at `path` (its root-only run folder, or a 0600 lock
    file), or None. `inspect` then answers "nobody holds it", which a dashboard must not
    pass off as "nothing runs"."""
    try:
        os.close(os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK))
    except PermissionError:
        return (f"this user cannot read {path} (it is root's): whether a sync of this job "
                "runs cannot be seen, and s, d and a cannot act on it; run the dashboard as "
                "root (sudo space-mirror)")
    except OSError:
        return None  # no lock yet, or not a file we would read anyway
    return None


def inspect(path: Path) -> Holder | None:
    """Who holds the lock at `path`, or None when nobody does. A record is believed only
    from a regular file owned by root or us that nobody else can write."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        pids = holder_pids(st)
        # /proc/locks also shows a shared hold (one that a shared probe would not notice,
        # yet that stops every runner); the probe is for where /proc/locks is unreadable.
        if pids is None:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError:
                pids = ()
            else:
                fcntl.flock(fd, fcntl.LOCK_UN)
                return None
        elif not pids:
            return None
        problem = _untrusted(st)
        record = None
        if problem is None:
            data = os.pread(fd, 65536, 0).decode("utf-8", "replace")
            record = LockRecord.from_json(data)
            if record is None:
                problem = "the lock file holds no runner record"
        return Holder(record, problem, pids, _since(record if problem is None else None,
                                                    pids, st))
    finally:
        os.close(fd)


def _untrusted(st: os.stat_result) -> str | None:
    if not stat.S_ISREG(st.st_mode):
        return "the lock is not a regular file"
    if st.st_uid not in (0, os.geteuid()):
        return f"the lock file is owned by uid {st.st_uid}, not by the runner's user"
    if stat.S_IMODE(st.st_mode) & 0o022:
        return f"the lock file has mode {stat.S_IMODE(st.st_mode):04o}: others can write it"
    return None


def holder_pids(st: os.stat_result) -> tuple[int, ...] | None:
    """Processes holding an flock on the file with this stat, from /proc/locks (a pid
    outside our pid namespace reads 0); None when /proc/locks cannot be read."""
    dev = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    pids: list[int] = []
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) < 6 or parts[1] == "->" or parts[1] != "FLOCK":
                    continue
                if parts[5] == dev and parts[4].isdigit():
                    pids.append(int(parts[4]))
    except OSError:
        return None
    return tuple(sorted(set(pids)))


def _since(record: LockRecord | None, pids: tuple[int, ...], st: os.stat_result) -> float:
    """When the hold began: the record's start, else the oldest holder process, else the
    file's last change (a lower bound on how long it has been held)."""
    if record is not None:
        try:
            return datetime.fromisoformat(record.started).timestamp()
        except ValueError:
            pass
    starts: list[float] = []
    if pids:
        import psutil  # a lock held without a record: rare, and psutil is slow to load
    for pid in pids or ():
        try:
            starts.append(psutil.Process(pid).create_time())
        except psutil.Error:
            continue
    return min(starts) if starts else st.st_mtime


def _write_record(fd: int, record: LockRecord) -> None:
    # New bytes first, then cut what is left of a longer old record: a reader never sees
    # an empty file (truncate-then-write left a window where the holder was unknown).
    data = (record.to_json() + "\n").encode()
    os.pwrite(fd, data, 0)
    os.ftruncate(fd, len(data))
