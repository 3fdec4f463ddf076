"""Deterministic dashboards for snapshots and screenshots.

Each scene replays a recorded real log (tests/snapshots/logs/, see record_logs.py) with a
fixed clock, host, vitals and process probe, so the picture has no jitter.
"""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from textual.pilot import Pilot

from tui.app.app import MirrorApp
from tui.config import Job
from tui.core.markers import Marker, MarkerKind, parse_marker
from tui.ops.preflight import CheckResult
from tui.ops.processes import RunningSync, Vitals

LOGS = Path(__file__).parent / "logs"


def _last_start(log: Path) -> Marker:
    """The last run's start marker in a recorded log (record_logs.py writes them)."""
    starts = [m for m in map(parse_marker, log.read_text().splitlines())
              if m is not None and m.kind is MarkerKind.START]
    return starts[-1]


# The scenes' clock and running sync come from the recorded logs, so that re-recording them
# with today's runner (record_logs.py) needs no edit here: "now" is 3 h 15 min after the
# second night's run started, the run the `running` scene shows.
_SECOND = _last_start(LOGS / "running.log")
assert _SECOND.time is not None
NOW = (_SECOND.time + timedelta(hours=3, minutes=15)).replace(second=0, microsecond=0)
HOST = "nas01"
RCLONE_PID = 13850
RUNNING = RunningSync(kind="runner", pid=int(_SECOND.fields.get("pid", "13829")),
                      rclone_pid=RCLONE_PID, run_id=_SECOND.run_id,
                      started=_SECOND.time.isoformat(timespec="seconds"), mode="sync",
                      started_by="cli")
VITALS = Vitals(pid=RCLONE_PID, cpu_percent=23.0, rss=48 * 1024 * 1024,
                read_bps=409_600.0, write_bps=409_600.0)
FAILED_CHECKS = [
    CheckResult("rclone", True, "/usr/bin/rclone (rclone v1.75.2)"),
    CheckResult("source", False, "/space is empty: a sync would delete the whole mirror",
                "mount the source file system, or restore its content"),
    CheckResult("mount", False, "/space is not a mount point (require_mount is set)",
                "mount the file system on /space, or set require_mount = false"),
    CheckResult("destination", False, ":b2:miket-space-mirror: auth (401 bad_auth_token)",
                "check the credentials in the env file"),
]


class FixedSampler:
    def __init__(self, pid: int) -> None:
        self.pid = pid

    def sample(self) -> Vitals:
        return VITALS


@dataclass(frozen=True)
class Scene:
    name: str
    log: str
    running: bool = False
    press: tuple[str, ...] = ()


SCENES = {
    "idle": Scene("idle", "idle.log"),
    "running": Scene("running", "running.log", running=True),
    "aborted": Scene("aborted", "aborted.log"),
    "failed": Scene("failed", "failed.log"),
    "preflight-failed": Scene("preflight-failed", "idle.log", press=("s",)),
}


def make_app(scene: Scene, workdir: Path) -> MirrorApp:
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "space-mirror.log"
    shutil.copy(LOGS / scene.log, log)
    job = Job(log_file=log, lock_file=workdir / "lock", env_file=None,
              summary_file=workdir / "summary.json")
    running = RUNNING if scene.running else None

    def never_launch(argv: list[str]) -> object:
        raise AssertionError("a scene must not start a run")

    return MirrorApp(
        job, [], clock=lambda: NOW, hostname=HOST, vitals_sampler=FixedSampler,
        find_running=lambda _job: running, preflight=lambda _job: FAILED_CHECKS,
        launcher=never_launch,  # type: ignore[arg-type]
        sample_interval=3600.0,
    )


async def settle(pilot: Pilot[int], timeout: float = 10.0) -> None:
    """Wait until the log is read and the first probe is in (polling with a deadline)."""
    import time

    from tui.app.widgets.logview import LogView

    app = pilot.app
    assert isinstance(app, MirrorApp)
    log = app.query_one(LogView)
    has_lines = app.job.log_file.exists() and app.job.log_file.stat().st_size > 0
    deadline = time.monotonic() + timeout
    # Read, probed, the lines in the log view (the state can arrive a frame before them),
    # and the view scrolled to their end, as follow mode does (one more refresh later).
    def settled() -> bool:
        return (app.caught_up and app.probes >= 1 and (log.line_count > 0 or not has_lines)
                and (not log.follow or log.scroll_y >= log.max_scroll_y))

    while not settled():
        if time.monotonic() > deadline:
            raise AssertionError("the dashboard did not settle")
        await pilot.pause(0.02)
    await pilot.pause()


def settle_then(scene: Scene) -> Callable[[Pilot[int]], Awaitable[None]]:
    async def run_before(pilot: Pilot[int]) -> None:
        await settle(pilot)
        await pilot.pause()  # the settled state's repaint, which a loaded machine delays
        if scene.press:
            await pilot.press(*scene.press)
            app = pilot.app
            assert isinstance(app, MirrorApp)
            import time

            deadline = time.monotonic() + 10
            while app.pending is not None:
                if time.monotonic() > deadline:
                    raise AssertionError("the pre-flight did not finish")
                await pilot.pause(0.02)
            await pilot.pause()

    return run_before
