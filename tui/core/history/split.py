"""A large file's cold scan on several cores: the file cut at start markers into parts,
the first scanned here, the others in forked children, joined as one scan.

A first read of years of logs (hundreds of MB) is the error needle's `bytes.find` and a
little Python per run, all holding the GIL: a thread would not help, a process does. A
part that starts at a start marker's line is scanned exactly as within a whole-file scan
(scan.scan_part says why), so the joined answer is the serial one; a child that fails in
any way (killed, out of memory, a bug) has its part scanned again here.

Forking only where it is safe and pays: no other thread in this process (the dashboard
reads its history on a worker thread, and a fork there could copy a held lock), more than
one core to run on, and parts of at least MIN_PART_BYTES. A child runs none of its
parent's signal handlers (the runner's end a run) and none of its exit handlers.
"""

from __future__ import annotations

import contextlib
import itertools
import marshal
import os
import signal
import sys

from tui.core.history.files import LogBytes
from tui.core.history.model import FileScan
from tui.core.history.scan import (
    Buf,
    ScanPart,
    is_start_line,
    join_parts,
    scan_bytes,
    scan_part,
    search_fast_for,
)
from tui.core.markers import START_NEEDLE

# Below this a part scans in ~30 ms: a fork and the answer's trip back would eat the gain.
MIN_PART_BYTES = 32 * 1024 * 1024
# A part more than there are cores: a part starts only where a run starts, and one full
# re-sync can hold a third of a year's log, so the shares are rarely even; with one part
# to spare the scheduler evens out what the cuts could not (measured on two cores: 2 parts
# 193 ms, 3 parts 155 ms, 4 parts 202 ms: each cut costs a search, and a cut next to
# another makes a part too small to pay for its fork).
SPARE_PARTS = 1
MAX_PARTS = 5
# `[` looked at around a cut before looking for the marker's text instead, and marker
# texts looked at before settling for fewer parts (the text can sit inside a line too).
MAX_BRACKETS = 256
MAX_CANDIDATES = 64


def scan_range(name: str, buf: Buf, lo: int, hi: int) -> FileScan:
    """scan.scan_bytes of [lo, hi), on several cores when the stretch is large."""
    cuts = plan_cuts(buf, lo, hi, _parts_wanted(buf, hi - lo))
    if len(cuts) <= 2:
        return scan_bytes(name, buf, lo, hi)
    search_fast_for(buf, lo, hi)
    children: list[tuple[int, int, int, int]] = []  # (pid, read end, lo, hi)
    try:
        for a, b in itertools.pairwise(cuts[1:]):
            started = _fork_part(name, buf, a, b)
            if started is None:  # no fork: scanned below, here
                children.append((-1, -1, a, b))
            else:
                children.append((*started, a, b))
        parts = [scan_part(name, buf, cuts[0], cuts[1])]
        for i, (pid, fd, a, b) in enumerate(children):
            got = _collect(pid, fd) if pid > 0 else None
            children[i] = (-1, -1, a, b)  # reaped
            parts.append(got if got is not None else scan_part(name, buf, a, b))
    finally:
        for pid, fd, _, _ in children:  # only after an exception: stop and reap the rest
            if pid > 0:
                _stop(pid, fd)
    return join_parts(name, parts, hi)


def _parts_wanted(buf: Buf, size: int) -> int:
    if not isinstance(buf, LogBytes) or size < 2 * MIN_PART_BYTES or not _alone():
        return 1
    cores = usable_cores()
    if cores < 2:
        return 1
    return max(1, min(cores + SPARE_PARTS, MAX_PARTS, size // MIN_PART_BYTES))


def _alone() -> bool:
    """Whether this process can fork safely: no other thread that could hold a lock the
    child would inherit held (threading is loaded by whatever starts one)."""
    if not hasattr(os, "fork"):
        return False
    threading = sys.modules.get("threading")
    return threading is None or threading.active_count() == 1


def usable_cores() -> int:
    """The cores this process may run on (its affinity, as taskset or a cgroup sets it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def plan_cuts(buf: Buf, lo: int, hi: int, parts: int) -> list[int]:
    """[lo, …, hi]: where each part starts, each cut at the line of a start marker nearest
    an even share of the bytes (fewer parts when the markers are too far apart)."""
    cuts = [lo]
    share = (hi - lo) // max(1, parts)
    for i in range(1, parts):
        aim = lo + (hi - lo) * i // parts
        at = _start_line_near(buf, aim, cuts[-1] + 1, hi)
        # A part much smaller than its share is not worth a process of its own.
        if at is not None and at - cuts[-1] >= share // 4 and hi - at >= share // 4:
            cuts.append(at)
    return [*cuts, hi]


def _start_line_near(buf: Buf, aim: int, lo: int, hi: int) -> int | None:
    """The start of the start-marker line nearest `aim` within (lo, hi), if any."""
    after = _start_line(buf, aim, hi, forward=True)
    before = _start_line(buf, lo, aim, forward=False)
    if after is None or (before is not None and aim - before <= after - aim):
        return before
    return after


def _start_line(buf: Buf, lo: int, hi: int, forward: bool) -> int | None:
    """The first (or last) start marker's line start in [lo, hi), preceded by a newline.

    A marker line opens with `[`, rare in rclone's lines and found at memory speed (a
    one-byte find); where `[` is common (JSON stats listing files in flight), the marker's
    text is looked for instead."""
    pos = lo if forward else hi
    misses = 0
    while misses < MAX_BRACKETS:
        at = buf.find(b"[", pos, hi) if forward else buf.rfind(b"[", lo, pos)
        if at == -1:
            return None
        pos = at + 1 if forward else at
        if is_start_line(buf, at, hi):
            return at
        misses += 1
    for _ in range(MAX_CANDIDATES):
        hit = buf.find(START_NEEDLE, pos, hi) if forward else buf.rfind(START_NEEDLE, lo, pos)
        if hit == -1:
            return None
        pos = hit + 1 if forward else hit
        line = buf.rfind(b"\n", max(lo, hit - 80), hit) + 1
        if line > lo and is_start_line(buf, line, hi):
            return line
    return None


def _fork_part(name: str, buf: Buf, lo: int, hi: int) -> tuple[int, int] | None:
    """(pid, read end of its pipe) of a child scanning [lo, hi); None when fork fails."""
    try:
        read_fd, write_fd = os.pipe()
    except OSError:
        return None
    # Signals stay blocked across the fork: the child is a copy of whatever process asked
    # (the runner, with handlers that end a run and write its end marker) and must never
    # run the parent's handlers; it takes the default actions before any can be delivered.
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    try:
        pid = os.fork()
    except OSError:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        os.close(read_fd)
        os.close(write_fd)
        return None
    if pid != 0:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        os.close(write_fd)
        return pid, read_fd
    code = 1  # the child: scan, send, and leave without running the parent's exits
    try:
        _default_signals()
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        os.close(read_fd)
        data = marshal.dumps(scan_part(name, buf, lo, hi).plain())
        view = memoryview(data)
        while view:
            view = view[os.write(write_fd, view):]
        code = 0
    finally:
        os._exit(code)


def _default_signals() -> None:
    """Every signal this process handles in Python back to its default action."""
    for sig in signal.valid_signals():
        try:
            if callable(signal.getsignal(sig)):
                signal.signal(sig, signal.SIG_DFL)
        except (OSError, ValueError):
            pass


def _collect(pid: int, fd: int) -> ScanPart | None:
    """A child's part, or None when it did not give a whole one (then it is scanned here)."""
    chunks: list[bytes] = []
    try:
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
    except OSError:
        chunks = []
    finally:
        os.close(fd)
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:  # reaped by someone else's wait(): its exit is unknown
        return None
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0 or not chunks:
        return None
    try:
        return ScanPart.from_plain(marshal.loads(b"".join(chunks)))
    except (EOFError, ValueError, TypeError, KeyError, IndexError):
        return None


def _stop(pid: int, fd: int) -> None:
    with contextlib.suppress(OSError):  # closed already if the collect was interrupted
        os.close(fd)
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
