"""Deterministic overviews for snapshots and screenshots: recorded real logs, a fixed clock,
probe and timer list."""

from __future__ import annotations

import json
import shutil
import time
from datetime import datetime, timedelta
from pathlib import Path

from dashboard_scenes import RUN_NOW, RUNNING
from textual.pilot import Pilot

from tui.app.app import MirrorApp
from tui.app.screens.overview import OverviewScreen
from tui.config import Job

LOGS = Path(__file__).parent / "logs"
KINDS = ["idle", "running", "failed", "aborted"]
H = 3600.0
# The scene's clock: the recorded running log's last line, plus 3 s (a live run, moving).
OV_NOW = RUN_NOW + timedelta(seconds=3)
T = OV_NOW.timestamp()
# Each job's summary (the health model's facts), as the runner writes it after a run. The
# three-job scene is issue 22's night: one failed, one running whose previous run stalled,
# one stale (its log holds no run since it rotated; its last success is 30 h old).
SUMMARIES: dict[str, dict[str, object]] = {
    "idle": {"mode": "sync", "outcome": "success", "exit_code": 0, "ended": T - 15,
             "last_success_ended": T - 15},
    "running": {"mode": "sync", "outcome": "failed", "exit_code": 79, "stalled": True,
                "ended": T - 21 * H,
                "reason": "no progress for 30 min (stall_timeout); in flight: raw-03.dng",
                "last_success_ended": T - 20 * H},
    "failed": {"mode": "sync", "outcome": "failed", "exit_code": 7, "ended": T - 3,
               "last_success_ended": T - 21 * H},
    "aborted": {"mode": "sync", "outcome": "aborted", "exit_code": 130, "ended": T - 3,
                "last_success_ended": T - 21 * H},
    "stale": {"mode": "sync", "outcome": "success", "exit_code": 0, "ended": T - 30 * H,
              "last_success_ended": T - 30 * H},
}


def overview_app(workdir: Path, count: int) -> MirrorApp:
    jobs: list[tuple[Job, list[str]]] = []
    running_logs: set[Path] = set()
    for i in range(count):
        kind = KINDS[i % len(KINDS)] if count > 3 else ["stale", "running", "failed"][i]
        name = f"{kind}-{i:02d}" if count > 3 else kind
        folder = workdir / name
        folder.mkdir(parents=True)
        log = folder / "space-mirror.log"
        if kind == "stale":
            log.write_bytes(b"")  # rotated: no run in it
        else:
            shutil.copy(LOGS / f"{kind}.log", log)
        if kind == "running":
            running_logs.add(log)
        summary = folder / "summary.json"  # the job's own, never /var/lib's
        summary.write_text(json.dumps(SUMMARIES[kind]))
        jobs.append((Job(name=name, log_file=log, lock_file=folder / "lock", env_file=None,
                         summary_file=summary),
                     ["--job", name]))

    def timers() -> dict[str, datetime]:
        return {f"space-mirror-{job.name}.timer": OV_NOW + timedelta(hours=9, minutes=15)
                for job, _ in jobs[::2]}

    return MirrorApp(jobs[0][0], jobs[0][1], jobs=jobs, clock=lambda: OV_NOW, hostname="nas01",
                     find_running=lambda job: RUNNING if job.log_file in running_logs else None,
                     timers=timers, sample_interval=3600.0)





async def surveyed(pilot: Pilot[int]) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, OverviewScreen)
    deadline = time.monotonic() + 10
    while screen.surveys < 1:
        assert time.monotonic() < deadline, "the overview never showed its jobs"
        await pilot.pause(0.02)
    await pilot.pause()
