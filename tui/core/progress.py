"""Has a run made progress, and since when has it not? Pure functions over RunState.

Progress means any of rclone's counters moved: bytes, checks, listed, transfers, deletes,
renames (or the per-file lines the reducer counts). A stats line that repeats the same
numbers is not progress: a stalled rclone keeps printing those once a second. The time
comes from an injected clock (monotonic seconds in the runner, the dashboard's clock
there), never from the log's own timestamps.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.core.runstate import Phase, RunState, left_undone
from tui.core.stats import Stats, Transfer
from tui.core.units import format_duration

ProgressKey = tuple[int, ...]

# A live run is shown STALLED once nothing has moved for this long (or for its
# stall_timeout, when that is shorter): rclone prints its stats every second, so ten
# seconds of the same numbers is no longer a pause between two lines.
SHOW_STALL_AFTER = 10.0


def stats_key(s: Stats | None) -> ProgressKey:
    """rclone's own counters whose change means the run moved (a stats line, or rc's
    `core/stats`, which has the same shape)."""
    s = s or Stats()
    return (s.bytes, s.checks, s.listed, s.transfers, s.deletes, s.deleted_dirs, s.renames,
            s.server_side_moves)


def progress_key(state: RunState) -> ProgressKey:
    """Every counter whose change means the run moved."""
    return (*stats_key(state.stats), state.copied, state.deleted, state.renamed)


def stall_shown_after(limit: float) -> float:
    """How long without progress before a live run is called stalled: SHOW_STALL_AFTER, or
    the stall_timeout when that is shorter (0: no watchdog)."""
    return min(SHOW_STALL_AFTER, limit) if limit > 0 else SHOW_STALL_AFTER


def is_stalled(idle: float | None, limit: float) -> bool:
    """The one answer to "is this live run stalled?": the dashboard's state word, the
    overview's order and the health model's `stalled_now` all read it."""
    return idle is not None and idle >= stall_shown_after(limit)


def stops_in(idle: float, limit: float) -> float | None:
    """Seconds until the watchdog stops a run idle for `idle` (None: no watchdog)."""
    return None if limit <= 0 else max(0.0, limit - idle)


@dataclass(frozen=True, slots=True)
class ProgressWatch:
    """The last progress seen: its key, when it was first seen, and the run it belongs to."""

    key: ProgressKey | None = None
    since: float | None = None
    run_id: str | None = None


def observe(watch: ProgressWatch, state: RunState, now: float,
            extra: ProgressKey = ()) -> ProgressWatch:
    """Fold one look at the run into the watch: a new run or a moved counter resets it.
    `extra`: counters from elsewhere than the log (rclone's rc `core/stats`)."""
    key = (*progress_key(state), *extra)
    if watch.since is None or watch.run_id != state.run_id or key != watch.key:
        return ProgressWatch(key=key, since=now, run_id=state.run_id)
    return watch


def idle_for(watch: ProgressWatch, now: float) -> float:
    """Seconds since the last progress (0 before the first look)."""
    return 0.0 if watch.since is None else max(0.0, now - watch.since)


def stall_text(idle: float) -> str:
    """`no progress for 4m12s`."""
    return f"no progress for {format_duration(idle)}"


def stall_reason(idle: float, limit: float, in_flight: tuple[Transfer, ...]) -> str:
    """The reason of a watchdog abort: how long, and which files were in flight."""
    # Whole minutes as `30 min`; anything else as a duration (`1m40s`), never `1.66667 min`.
    span = (f"{int(limit // 60)} min" if limit >= 60 and limit % 60 == 0
            else format_duration(limit))
    files = ", ".join(f"{t.name} ({t.percentage}%)" for t in in_flight[:5])
    more = f" and {len(in_flight) - 5} more" if len(in_flight) > 5 else ""
    flight = f"; in flight: {files}{more}" if in_flight else "; no file in flight"
    return f"no progress for {span} (stall_timeout){flight}"


def in_flight(state: RunState) -> tuple[Transfer, ...]:
    """The files rclone's last stats line listed as transferring, less those it has reported
    copied since. A stalled upload often shows 100% and is still in flight: rclone has read
    every byte and waits for the server to take them."""
    if state.stats is None:
        return ()
    if not state.finished:
        return state.stats.transferring
    done = set(state.finished)
    return tuple(t for t in state.stats.transferring if t.name not in done)


def eta_text(stats: Stats | None) -> str:
    """rclone's ETA, or `—` when nothing moves (rclone then says 106751d23h47m)."""
    if stats is None or stats.speed <= 0 or stats.eta is None or stats.eta < 0:
        return "—"
    if stats.eta > 365 * 86400:
        return "—"
    return format_duration(stats.eta)


def stopped_short(state: RunState) -> bool:
    """A run that ended without succeeding (`runstate.left_undone`): its bytes are what
    rclone sent, not what the destination kept (a transfer cut off leaves no file, or a
    partial one)."""
    return state.phase is Phase.ENDED and left_undone(state.outcome)


def done_percent(state: RunState) -> float | None:
    """How much of the run is done, as the progress bar shows it: rclone's bytes while it
    runs and after a success; after a run that stopped short, the files it finished of
    those it had to copy (65 % of the bytes sent, with one file of six finished, is 17 %
    done: the bytes of the five cut off are not at the destination)."""
    stats = state.stats
    if stats is None:
        return None
    if not stopped_short(state):
        return stats.percent
    total = stats.total_transfers
    return None if not total else 100.0 * min(state.transfers, total) / total
