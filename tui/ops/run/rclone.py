"""One rclone process, the same for every command: started under the job's lock (its
descriptors passed on, so the lock outlives us only while rclone runs), its stdout and stderr
into a file (never a pipe: a pipe whose reader dies kills rclone with SIGPIPE), its pid in the
lock record (an abort checks rclone's identity), and stopped with one policy: SIGCONT (a
SIGSTOPped rclone acts on nothing until it runs again), SIGTERM, and SIGKILL once the job's
grace has passed.

`wait` is a blocking loop that calls `tick` between polls: the caller follows the log and
runs its watchdog there. A caller on an asyncio loop runs it in a thread; `stop` and `kill`
may be called from any thread (a signal handler, a cancel event)."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from tui.core import exitcodes
from tui.ops import lock, processes, safefile, trust


class RcloneProcess:
    def __init__(self, argv: list[str], env: dict[str, str], output: Path,
                 held: lock.HeldLock, grace: float, *, stdout: Path | None = None,
                 output_mode: int = 0o640, new_session: bool = True) -> None:
        self.argv = argv
        self.env = env
        self.output = output  # stderr (and stdout unless `stdout` is given)
        self.stdout = stdout
        self.output_mode = output_mode
        self.held = held
        self.grace = grace
        self.new_session = new_session
        self.proc: subprocess.Popen[bytes] | None = None
        self.warning: str | None = None  # the lock record could not be updated
        self._lock = threading.Lock()
        self._stop_asked = False
        self._kill_at: float | None = None

    def start(self) -> str | None:
        """Start rclone; None, or why it could not start (one line)."""
        try:
            err_fd = safefile.append_fd(self.output, self.output_mode)
        except OSError as exc:
            return f"cannot open {self.output} for rclone: {exc.strerror or exc}"
        out_fd = err_fd
        program: trust.Program | None = None
        try:
            if self.stdout is not None:
                out_fd = safefile.append_fd(self.stdout, 0o600)
            # What runs is what was checked: the binary and every folder above it are
            # checked (owner root or us, no group/other write), then its real path runs,
            # which no other user can change (issue 20, row 1; trust.Program says why not
            # through /proc/self/fd: rclone keeps its name).
            program = trust.open_program(self.argv[0], "rclone")
            self.proc = subprocess.Popen(
                self.argv, env=self.env, stdin=subprocess.DEVNULL, stdout=out_fd,
                stderr=err_fd, start_new_session=self.new_session, pass_fds=self.held.fds,
                executable=program.real)
        except trust.Untrusted as exc:
            return f"rclone could not start: {exc}"
        except OSError as exc:
            return f"rclone could not start: {exc.strerror or exc}"
        finally:
            os.close(err_fd)
            if out_fd != err_fd:
                os.close(out_fd)
            if program is not None:
                program.close()
        try:
            self.held.update(replace(self.held.record, rclone_pid=self.proc.pid,
                                     rclone_start=processes.create_time(self.proc.pid)))
        except OSError as exc:  # the lock is still held; only its record is stale
            self.warning = f"cannot update the lock record: {exc.strerror}"
        if self._stop_asked:  # asked to stop while it was starting
            self._terminate()
        return None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        """SIGCONT + SIGTERM now, SIGKILL after the grace (from `wait`'s loop)."""
        with self._lock:
            self._stop_asked = True
            if self.proc is not None and self._kill_at is None:
                self._terminate()

    def _terminate(self) -> None:
        assert self.proc is not None
        self._kill_at = time.monotonic() + self.grace
        try:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        """Asked twice, or the grace has passed: stop waiting for a graceful end."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.kill()
            except ProcessLookupError:
                pass

    def wait(self, tick: Callable[[], None] | None = None, interval: float = 0.5) -> int:
        """Wait for rclone's end, calling `tick` between polls; its exit code (128+N when
        a signal ended it)."""
        assert self.proc is not None
        while True:
            try:
                code = self.proc.wait(timeout=interval)
                break
            except subprocess.TimeoutExpired:
                pass
            kill_at = self._kill_at
            if kill_at is not None and time.monotonic() >= kill_at:
                self.kill()
            if tick is not None:
                tick()
        return code if code >= 0 else exitcodes.signal_exit_code(-code)

    def finish(self) -> None:
        """After an exception while waiting: stop rclone, never leave it behind."""
        if self.running:
            self.stop()
            assert self.proc is not None
            try:
                self.proc.wait(timeout=self.grace)
            except subprocess.TimeoutExpired:
                self.kill()
                self.proc.wait()
