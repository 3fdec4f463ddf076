"""The job's history with the live answer: a run left open at the end of the log is
`running` when the lock (or a legacy wrapper's rclone) says so, else `incomplete`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tui.config import Job
from tui.core.history import History, scan_history

if TYPE_CHECKING:  # processes imports psutil: only when the probe really runs
    from tui.ops.processes import RunningSync

    FindRunning = Callable[[Job], RunningSync | None]


def load_history(job: Job, find_running: FindRunning | None = None) -> History:
    """Scan the job's log and its rotations. The process probe runs only if the log ends
    with an open run: psutil and a scan of the process table cost more than an incremental
    history scan."""
    answer: list[RunningSync | None] = []

    def is_running(run_id: str | None) -> bool:
        if not answer:
            probe: FindRunning
            if find_running is None:
                from tui.ops import processes

                probe = processes.find_running
            else:
                probe = find_running
            try:
                answer.append(probe(job))
            except Exception:  # a broken lock file or a psutil race must not cost the history
                answer.append(None)
        live = answer[0]
        if live is None:
            return False
        return live.kind == "legacy" if run_id is None else live.run_id == run_id

    return scan_history(job.log_file, is_running=is_running)
