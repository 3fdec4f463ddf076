"""rclone's remote control on a private unix socket: set up by the runner, used by
`space-mirror bwlimit` and the dashboard.

rclone 1.75.2 listens on a unix socket when `--rc-addr` is `unix:///abs/path` or an absolute
path (a relative `unix://rel.sock` works too; a bare relative name is taken for a TCP host).
It asks for authentication before `core/bwlimit` unless `--rc-no-auth` is given, so the
socket's folder is the guard: it must be a directory owned by us, mode 0700 (the job's
root-only run folder). Never a TCP port, never rc credentials.

rclone aborts the whole sync when its rc server cannot listen, so every doubt here (a
shared folder, a path too long for a socket, a non-socket in the way) turns the remote
control off for that run, with a warning, instead of failing the sync.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import stat
from pathlib import Path
from typing import Any

from tui.config import Job
from tui.core import bwlimit
from tui.ops import lock, rclone_probe, safefile

# sun_path is 108 bytes on Linux, including the terminating NUL.
MAX_SOCKET_PATH = 107
RC_TIMEOUT = 5.0


class RcError(Exception):
    """The remote control could not be reached or refused the call (one line, for people)."""


def private_dir_problem(folder: Path) -> str | None:
    """Make `folder` a 0700 directory of ours; None when done, else why it cannot be.

    Created 0700 when missing. An existing folder is never changed (a configured
    `lock_file = "/run/x.lock"` must not chmod /run): one that others can enter keeps the
    remote control off, and the reason says what to do.
    """
    try:
        safefile.make_dirs(folder, 0o700)
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        return f"cannot open {folder}: {exc.strerror}"
    try:
        st = os.fstat(fd)
        if st.st_uid != os.geteuid():
            return f"{folder} belongs to uid {st.st_uid}, not to us"
        mode = stat.S_IMODE(st.st_mode)
        if mode & 0o077:
            if mode & (stat.S_ISVTX | stat.S_IWOTH):
                return (f"{folder} is a shared folder (mode {mode:04o}); set lock_file in a "
                        "folder of its own, e.g. /run/space-mirror/")
            return (f"{folder} has mode {mode:04o}: other users can enter it; "
                    f"`chmod 700 {folder}` if it is the job's own, or set lock_file in a "
                    "folder of its own, e.g. /run/space-mirror/")
    finally:
        os.close(fd)
    return None


def prepare_socket(job: Job) -> tuple[Path | None, str | None]:
    """(socket path to give rclone, None) — or (None, why the remote control stays off).

    Called with the job's lock held, so a socket left at the path is a dead run's and is
    removed. An rclone that cannot serve rc on a unix socket (before 1.61) gets no --rc:
    it would refuse to start the sync."""
    version_problem = unsupported_by_rclone(job)
    if version_problem is not None:
        return None, version_problem
    path = job.rc_socket_path.absolute()
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:
        return None, f"{path} is longer than a unix socket path may be ({MAX_SOCKET_PATH} bytes)"
    problem = private_dir_problem(path.parent)
    if problem is not None:
        return None, problem
    try:
        st = path.lstat()
    except FileNotFoundError:
        return path, None
    except OSError as exc:
        return None, f"cannot look at {path}: {exc.strerror}"
    if not stat.S_ISSOCK(st.st_mode):
        return None, f"{path} exists and is not a socket; remove it"
    try:
        path.unlink()
    except OSError as exc:
        return None, f"cannot remove the old socket {path}: {exc.strerror}"
    return path, None


def unsupported_by_rclone(job: Job) -> str | None:
    """Why the job's rclone cannot serve the remote control here, or None when it can (or
    when its version is unknown: the pre-flight reports that)."""
    info = rclone_probe.for_job(job)
    if info is None or info.caps.rc_unix_socket:
        return None
    return (f"rclone {info.version} ({info.path}) cannot serve its remote control on a unix "
            "socket (rclone 1.61+ can); set the job's bwlimit key for the next run, or remove "
            "the job's rclone key to run the bundled rclone")


def remove_socket(socket_path: Path | None) -> None:
    """After rclone has exited: its socket file is left behind when it was killed."""
    if socket_path is None:
        return
    try:
        if stat.S_ISSOCK(socket_path.lstat().st_mode):
            socket_path.unlink()
    except OSError:
        pass


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def call(socket_path: Path, method: str, params: dict[str, Any] | None = None,
         timeout: float = RC_TIMEOUT) -> dict[str, Any]:
    """POST one rc call; its JSON answer. Raises RcError with a one-line reason."""
    conn = _UnixConnection(str(socket_path), timeout)
    body = json.dumps(params or {})
    try:
        conn.request("POST", f"/{method}", body=body,
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        raw = resp.read()
    except PermissionError:
        raise RcError(f"permission denied on {socket_path}: run as root "
                      "(the run folder is root-only)") from None
    except (FileNotFoundError, ConnectionRefusedError):
        raise RcError(f"nothing listens on {socket_path}") from None
    except (OSError, http.client.HTTPException) as exc:
        raise RcError(f"remote control at {socket_path} failed: {exc}") from None
    finally:
        conn.close()
    try:
        answer = json.loads(raw)
    except ValueError:
        raise RcError(f"remote control answered {resp.status} with no JSON") from None
    if not isinstance(answer, dict):
        raise RcError(f"remote control answered {resp.status} with unexpected JSON")
    if resp.status != 200:
        error = str(answer.get("error", "")).splitlines()[0:1]
        raise RcError(f"rclone refused {method}: {error[0] if error else resp.status}")
    return answer


def _running_socket(job: Job) -> Path:
    try:
        os.stat(job.lock_path)
    except PermissionError:
        raise RcError(f"permission denied on {job.lock_path.parent}: run as root "
                      "(the run folder is root-only)") from None
    except OSError:
        pass  # no lock file: nothing has run yet, said below
    holder = lock.read_holder(job.lock_path)
    if holder is None:
        raise RcError(f"no sync of job {job.name!r} is running; a limit for every run is the "
                      "job's bwlimit key (docs/runner.md)")
    path = job.rc_socket_path.absolute()
    try:
        is_socket = stat.S_ISSOCK(path.lstat().st_mode)
    except PermissionError:
        raise RcError(f"permission denied on {path.parent}: run as root "
                      "(the run folder is root-only)") from None
    except OSError:
        is_socket = False
    if not is_socket:
        why = unsupported_by_rclone(job)
        if why is not None:
            raise RcError(f"run {holder.run_id} of job {job.name!r} has no remote control: {why}")
        raise RcError(f"run {holder.run_id} of job {job.name!r} has no remote control "
                      f"(no socket at {path}; the runner's start said why)")
    return path


def get_bwlimit(job: Job) -> str:
    """The running sync's current limit as text (`4 MiB/s`, `off (no limit)`)."""
    return bwlimit.limit_text(call(_running_socket(job), "core/bwlimit"))


def set_bwlimit(job: Job, rate: str) -> str:
    """Set the running sync's limit (`512k`, `10M`, `off`); the limit now in force, as text.

    Raises RcError (no sync running, no socket, bad rate, rclone refused) with one line.
    Blocking (a few ms; at most RC_TIMEOUT): call it from a worker thread."""
    problem = bwlimit.rate_problem(rate)
    if problem is not None:
        raise RcError(problem)
    answer = call(_running_socket(job), "core/bwlimit", {"rate": rate.strip()})
    return bwlimit.limit_text(answer)
