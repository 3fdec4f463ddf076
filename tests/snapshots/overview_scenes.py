"""Deterministic overviews for snapshots and screenshots: recorded real logs, a fixed clock,
probe and timer list."""

from __future__ import annotations

import shutil
import time
from datetime import datetime, timedelta
from pathlib import Path

from dashboard_scenes import NOW, RUNNING
from textual.pilot import Pilot

from tui.app.app import MirrorApp
from tui.app.screens.overview import OverviewScreen
from tui.config import Job

LOGS = Path(__file__).parent / "logs"
KINDS = ["idle", "running", "failed", "aborted"]


def overview_app(workdir: Path, count: int) -> MirrorApp:
    jobs: list[tuple[Job, list[str]]] = []
    running_logs: set[Path] = set()
    for i in range(count):
        kind = KINDS[i % len(KINDS)] if count > 3 else ["idle", "running", "failed"][i]
        name = f"{kind}-{i:02d}" if count > 3 else kind
        folder = workdir / name
        folder.mkdir(parents=True)
        log = folder / "space-mirror.log"
        shutil.copy(LOGS / f"{kind}.log", log)
        if kind == "running":
            running_logs.add(log)
        jobs.append((Job(name=name, log_file=log, lock_file=folder / "lock", env_file=None),
                     ["--job", name]))

    def timers() -> dict[str, datetime]:
        return {f"space-mirror-{job.name}.timer": NOW + timedelta(hours=9, minutes=15)
                for job, _ in jobs[::2]}

    return MirrorApp(jobs[0][0], jobs[0][1], jobs=jobs, clock=lambda: NOW, hostname="nas01",
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
