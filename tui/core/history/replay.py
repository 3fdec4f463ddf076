"""Attaching to a long run without reading it line by line.

The dashboard shows the last run from its start marker. A long night (a full re-sync logs
hundreds of MB) took seconds to fold line by line, and the screen showed the figures of
whatever line the replay had reached. Instead, the run's body up to its last few MB is
summed by the history scanner (needles over fixed windows: disk speed, memory flat), and
only the tail, which holds the final stats block and the end marker, is folded line by line
on top of that sum. Counters that add up (copied, deleted, renamed, error lines, lines) come
out the same as a full fold; rclone's stats are cumulative, so the last block (in the tail)
is the total.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from tui.core.history.files import LogBytes, open_log
from tui.core.history.scan import MAX_MARKER_LINE, count_lines, scan_run_body
from tui.core.runstate import RunState

# A run longer than this from its start marker is attached to by its tail: the body before
# is summed by needles, never parsed. About 20-40k lines, a fraction of a second to fold.
REPLAY_TAIL_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Body:
    """What the part of a run before its tail adds to the run's state."""

    lines: int
    copied: int
    deleted: int
    renamed: int
    error_lines: int
    deletes_skipped: bool

    def add_to(self, state: RunState) -> RunState:
        return replace(
            state, lines=state.lines + self.lines, copied=state.copied + self.copied,
            deleted=state.deleted + self.deleted, renamed=state.renamed + self.renamed,
            error_lines=state.error_lines + self.error_lines,
            deletes_skipped_for_io_errors=(state.deletes_skipped_for_io_errors
                                           or self.deletes_skipped))


@dataclass(frozen=True, slots=True)
class Attach:
    """How to attach to the run at `start`: fold [start, marker_end) (its start marker's
    line), add `body`, then fold from `tail` on. `body` is None for a short run (fold it all
    from `start`)."""

    start: int
    marker_end: int
    tail: int
    body: Body | None
    marker: bytes = b""  # the start marker's line, when `body` is set


def plan_attach(path: Path, start: int, tail_bytes: int = REPLAY_TAIL_BYTES) -> Attach:
    """How to replay the run whose start marker's line begins at `start` in `path`."""
    try:
        fd = open_log(path)
    except OSError:
        return Attach(start, start, start, None)
    try:
        size = os.fstat(fd).st_size
        if size - start <= tail_bytes:
            return Attach(start, start, start, None)
        buf = LogBytes(fd, size)
        nl = buf.find(b"\n", start, size)
        marker_end = size if nl == -1 else nl + 1
        cut = buf.find(b"\n", max(marker_end, size - tail_bytes), size)
        tail = size if cut == -1 else cut + 1
        if tail <= marker_end:
            return Attach(start, start, start, None)
        return Attach(start, marker_end, tail, _body(str(path), buf, marker_end, tail),
                      buf[start:min(marker_end, start + MAX_MARKER_LINE)])
    except OSError:  # shrank under us (copytruncate): replay it all, the follower copes
        return Attach(start, start, start, None)
    finally:
        os.close(fd)


def _body(name: str, buf: LogBytes, lo: int, hi: int) -> Body:
    lines = count_lines(buf, lo, hi)
    frag = scan_run_body(name, buf, lo, hi)
    counted = frag.counted or {}
    return Body(lines, counted.get("copied", 0), counted.get("deleted", 0),
                counted.get("renamed", 0), frag.error_lines, frag.deletes_skipped)
