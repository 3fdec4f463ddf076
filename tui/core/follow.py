"""An async follower of a growing log file, in the spirit of `tail -F`.

It yields batches of complete lines. It survives what logrotate and operators do to a log:
- rename and create: the old file is drained to its end, then the new one is read from 0;
- copytruncate: the file shrinks below our position, so reading restarts at 0;
- deletion, or a log that does not exist yet: it waits for the file to (re)appear;
- a line still being written: held back until its newline arrives;
- a huge line: cut at `max_line` bytes, so memory stays bounded.

Polling (not inotify) keeps it portable and cheap: one fstat per idle tick.
"""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from tui.core.markers import START_NEEDLE

READ_CHUNK = 1 << 20
MAX_LINE = 64 * 1024


# The note while the log file does not exist yet: a state, not an event; the dashboard drops
# it once the file's first lines arrive.
WAITING = "waiting for the log file to appear"


@dataclass(slots=True)
class Batch:
    lines: list[bytes] = field(default_factory=list)
    notice: str | None = None  # "log rotated", "log truncated", "waiting for log" …


class LogFollower:
    def __init__(
        self,
        path: Path,
        start: int = 0,
        poll_interval: float = 0.1,
        max_batch_lines: int = 5000,
        max_line: int = MAX_LINE,
        follow_name: bool = True,
    ) -> None:
        """`follow_name`: like `tail -F`, switch to a new file at `path` after a rotation
        (the dashboard: a new run may start there). False is `tail -f`: stay with the file
        first opened, as rclone does with its --log-file (the runner counts rclone's lines)."""
        self.path = path
        self.follow_name = follow_name
        self.position = start
        self.poll_interval = poll_interval
        self.max_batch_lines = max_batch_lines
        self.max_line = max_line
        self._fd: int | None = None
        self._ident: tuple[int, int] | None = None
        self._partial = bytearray()
        self._discarding = False  # inside an over-long line, skipping to its newline
        self._stopped = asyncio.Event()

    def stop(self) -> None:
        self._stopped.set()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    async def batches(self) -> AsyncIterator[Batch]:
        """Yield batches until stop(); waits `poll_interval` between empty reads.

        The descriptor stays open after stop(), so that the owner can drain what is left
        of the same file with poll(); the owner calls close()."""
        while not self._stopped.is_set():
            batch = self.poll()
            if batch.lines or batch.notice:
                yield batch
                if len(batch.lines) >= self.max_batch_lines:
                    await asyncio.sleep(0)  # more is waiting: let others run, then go on
                    continue
            try:
                await asyncio.wait_for(self._stopped.wait(), self.poll_interval)
            except TimeoutError:
                pass

    def poll(self) -> Batch:
        """One non-blocking step: read what is new, and notice rotation or truncation."""
        batch = Batch()
        if self._fd is None and not self._open(batch):
            return batch
        assert self._fd is not None
        self._read_available(batch)
        if batch.lines:
            return batch
        # Nothing new in our file: has the path moved on to another file, or shrunk?
        try:
            st = os.stat(self.path) if self.follow_name else os.fstat(self._fd)
        except FileNotFoundError:
            return batch  # deleted; keep the old descriptor until a new file appears
        except OSError as exc:
            batch.notice = f"cannot stat log: {exc.strerror}"
            return batch
        if (st.st_dev, st.st_ino) != self._ident:
            self._flush_partial(batch)
            self.close()
            self.position = 0
            batch.notice = "log rotated; following the new file"
            self._open(batch)
            if self._fd is not None:
                self._read_available(batch)
        elif st.st_size < self.position:
            self._partial.clear()
            self._discarding = False
            self.position = 0
            batch.notice = "log truncated; reading from its start"
            self._read_available(batch)
        return batch

    def _open(self, batch: Batch) -> bool:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            batch.notice = batch.notice or WAITING
            return False
        except IsADirectoryError:
            batch.notice = f"{self.path} is a directory, not a log file"
            return False
        except PermissionError:
            batch.notice = f"no permission to read {self.path}"
            return False
        except OSError as exc:
            batch.notice = f"cannot open {self.path}: {exc.strerror}"
            return False
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            what = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
            batch.notice = f"{self.path} is {what}, not a log file"
            return False
        if self.position > st.st_size:
            self.position = 0
        self._fd = fd
        self._ident = (st.st_dev, st.st_ino)
        return True

    def _read_available(self, batch: Batch) -> None:
        assert self._fd is not None
        while len(batch.lines) < self.max_batch_lines:
            try:
                chunk = os.pread(self._fd, READ_CHUNK, self.position)
            except OSError as exc:
                batch.notice = f"cannot read log: {exc.strerror}"
                return
            if not chunk:
                return
            self.position += len(chunk)
            self._split(chunk, batch.lines)

    def _split(self, chunk: bytes, out: list[bytes]) -> None:
        start = 0
        while True:
            nl = chunk.find(b"\n", start)
            if nl < 0:
                break
            piece = chunk[start:nl]
            start = nl + 1
            if self._discarding:
                self._discarding = False
                continue
            if self._partial:
                self._partial += piece
                piece = bytes(self._partial[: self.max_line])
                self._partial.clear()
            elif len(piece) > self.max_line:
                piece = piece[: self.max_line]
            out.append(piece)
        if start < len(chunk) and not self._discarding:
            self._partial += chunk[start:]
            if len(self._partial) > self.max_line:
                # Emit the head of the over-long line now and skip the rest of it.
                out.append(bytes(self._partial[: self.max_line]))
                self._partial.clear()
                self._discarding = True

    def _flush_partial(self, batch: Batch) -> None:
        if self._partial:
            batch.lines.append(bytes(self._partial))
            self._partial.clear()
        self._discarding = False


# How far back from its needle a start marker's line may begin.
MARKER_LINE_BACK = 64 * 1024


def last_start_offset(path: Path, max_scan: int = 256 * 1024 * 1024) -> int | None:
    """Byte offset of the last start marker's line in `path`, scanning backwards from the end.

    Used to attach to a run: the dashboard replays the current run from its start marker.
    Returns None when no marker is found in the last `max_scan` bytes.
    """
    # The history's reader: fixed windows (memory flat however long the last run is), and
    # only a regular file (a FIFO in the log's place must not hang the dashboard).
    from tui.core.history.files import LogBytes, open_log

    try:
        fd = open_log(path)
    except OSError:
        return None
    try:
        size = os.fstat(fd).st_size
        buf = LogBytes(fd, size)
        idx = buf.rfind(START_NEEDLE, max(0, size - max_scan), size)
        if idx < 0:
            return None
        floor = max(0, idx - MARKER_LINE_BACK)
        nl = buf.rfind(b"\n", floor, idx)
        return nl + 1 if nl >= 0 else floor
    except OSError:
        return None
    finally:
        os.close(fd)
    return None
