"""Dashboard workers that look something up once and post it: the last run's detail (`l`),
the usual duration of a run (the ETA before rclone's), rclone's bandwidth limit (`w`).
Each runs in a thread; none touches a widget."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from textual.message import Message

from tui.app.messages import BandwidthRead, LastRunLoaded
from tui.config import Job
from tui.core.runstate import Outcome

Post = Callable[[Message], object]


def load_last_run(job: Job, post: Post) -> None:
    """The newest run that has ended (a running or interrupted one has no answer yet)."""
    # Here, not at the top: the history is read after the first frame, not before it.
    from tui.core.history import persistent_at
    from tui.ops.history import load_history

    try:
        runs = load_history(job).runs
    except OSError as exc:
        post(LastRunLoaded(None, None, f"cannot read the history: {exc}"))
        return
    ended = [r for r in runs if r.ended is not None
             and r.outcome not in (Outcome.RUNNING, Outcome.INCOMPLETE)]
    if not ended:
        post(LastRunLoaded(None, None, f"no finished run in {job.log_file} yet"))
        return
    post(LastRunLoaded(ended[-1], persistent_at(runs, ended[-1])))


def read_bandwidth(job: Job, run_id: str | None, stop: threading.Event, post: Post,
                   wait: float = 10.0) -> None:
    """The running sync's limit (rc.get_bwlimit). rclone opens its socket a moment after the
    start marker: ask again until it answers, the run ends, or `wait` seconds pass; no
    socket at all means nothing to show."""
    from tui.ops import rc

    deadline = time.monotonic() + wait
    while True:
        try:
            post(BandwidthRead(run_id, rc.get_bwlimit(job)))
            return
        except rc.RcError:
            if time.monotonic() >= deadline or stop.wait(0.2):
                post(BandwidthRead(run_id, None))
                return


def set_bandwidth(job: Job, run_id: str | None, rate: str, post: Post) -> None:
    """rc.set_bwlimit, then what rclone says is in force (or its one-line refusal)."""
    from tui.ops import rc

    try:
        post(BandwidthRead(run_id, rc.set_bwlimit(job, rate), changed=True))
    except rc.RcError as exc:
        post(BandwidthRead(run_id, None, str(exc), changed=True))
