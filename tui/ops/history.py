"""The job's history with the live answer: a run left open at the end of the log is
`running` when the lock (or a legacy wrapper's rclone) says so, else `incomplete`."""

from __future__ import annotations

from pathlib import Path

from tui.core.cachedir import default_cache_dir
from tui.ops import safefile

# The history model, the config and typing load when a history is read, not when the
# `history` memo only asks where the cache folder is (tui/answer_memo.py, issue 21).
TYPE_CHECKING = False
if TYPE_CHECKING:  # processes imports psutil: only when the probe really runs
    from collections.abc import Callable
    from typing import Literal

    from tui.config import Job
    from tui.core.history import History
    from tui.ops.processes import RunningSync

    FindRunning = Callable[[Job], RunningSync | None]


def load_history(job: Job, find_running: FindRunning | None = None,
                 cache: Literal["user", "state"] = "user") -> History:
    """Scan the job's log and its rotations. The process probe runs only if the log ends
    with an open run: psutil and a scan of the process table cost more than an incremental
    history scan. `cache`: the reader's own cache folder (the dashboard, `history`), or the
    job's state folder beside its summary (the runner: root's, never a user's ~/.cache,
    issue 20 row 3b; the end of every run reads the history, and years of logs must not be
    scanned whole each night)."""
    from tui.core.history import scan_history

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

    folder = cache_folder() if cache == "user" else state_cache_folder(job)
    return scan_history(job.log_file, is_running=is_running, cache_dir=folder,
                        use_cache=folder is not None, write=_write_private)


def cache_folder(environ: dict[str, str] | None = None) -> Path | None:
    """The dashboard's history cache folder, or None (no cache) when it is not ours alone."""
    try:
        return safefile.private_folder(default_cache_dir(environ))
    except OSError:
        return None


def state_cache_folder(job: Job) -> Path | None:
    """The runner's history cache: a private folder beside the job's summary (where its
    state lives), or None (no cache) when that folder is not ours alone."""
    try:
        return safefile.private_folder(job.summary_path.parent / f".{job.name}.history")
    except OSError:
        return None


def _write_private(path: Path, data: bytes) -> None:
    safefile.write_atomic(path, data, 0o600, 0o700, durable=False)  # a cache: rebuilt if lost


def save_report(folder: Path, name: str, text: str) -> Path:
    """A triage report, 0600 in a private folder (it quotes the run's log lines), written
    through the safe-file layer: a name planted in advance is replaced, never followed.
    Raises OSError (UnsafeFile names the folder and the fix)."""
    from tui.core.text import printable_lines

    path = safefile.private_folder(folder) / name
    safefile.write_atomic(path, printable_lines(text).encode("utf-8"), 0o600, 0o700)
    return path
