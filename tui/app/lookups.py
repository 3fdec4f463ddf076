"""Dashboard workers that look something up once and post it: the last run's detail (`l`),
the usual duration of a run (the ETA before rclone's), rclone's bandwidth limit (`w`).
Each runs in a thread; none touches a widget."""

from __future__ import annotations

from collections.abc import Callable

from textual.message import Message

from tui.app.messages import LastRunLoaded
from tui.config import Job
from tui.core.history import persistent_at
from tui.core.runstate import Outcome

Post = Callable[[Message], object]


def load_last_run(job: Job, post: Post) -> None:
    """The newest run that has ended (a running or interrupted one has no answer yet)."""
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
