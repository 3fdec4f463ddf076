"""Deterministic dashboards for snapshots and screenshots.

Each scene replays a recorded real log (tests/snapshots/logs/, see record_logs.py) with a
fixed clock, host, vitals and process probe, so the picture has no jitter.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
# The job the logs were recorded with (record_logs.py): the header must name the paths the
# log's lines name (a B2 header over "Local file system at /tmp/…" lines is not believable).
RECORDED_SOURCE = "/tmp/space-mirror-recording/space"
RECORDED_DESTINATION = "/tmp/space-mirror-recording/mirror"
# What the pre-flight says (tui/ops/preflight.py, tui/ops/guards/source.py) for an empty,
# unmounted source, in the checks' own words.
FAILED_CHECKS = [
    CheckResult("rclone", True, "/opt/space-mirror/bin/rclone (v1.75.2, bundled)"),
    CheckResult("source", False,
                f"{RECORDED_SOURCE} is empty: a sync would delete the whole mirror",
                "mount the source file system, or restore its content"),
    CheckResult("mount", False, f"{RECORDED_SOURCE} is not a mount point (require_mount is set)",
                f"mount the file system on {RECORDED_SOURCE}, or set require_mount = false"),
    CheckResult("destination", True, f"{RECORDED_DESTINATION} answers"),
]


class FixedSampler:
    def __init__(self, pid: int, vitals: Vitals = VITALS) -> None:
        self.pid = pid
        self.vitals = vitals

    def sample(self) -> Vitals:
        return self.vitals


@dataclass(frozen=True)
class Scene:
    name: str
    log: str
    running: bool = False
    press: tuple[str, ...] = ()
    now: datetime = NOW  # the scene's clock when it opens
    # Seconds the clock moves once the scene has settled (a run that stopped moving).
    advance: float = 0.0
    source: str = RECORDED_SOURCE
    destination: str = RECORDED_DESTINATION
    last_good_ago: float | None = None  # seconds; the summary's last good mirror
    running_sync: RunningSync = RUNNING  # what the lock says runs (when `running`)
    flags: tuple[str, ...] = ("--fast-list", "--transfers", "16", "--track-renames")
    # rclone's process as psutil sees it: its reads and writes match the run's speed
    vitals: Vitals = VITALS


def _last_time(log: Path) -> datetime:
    """The time of a recorded log's last line (rclone's JSON `time`, or a marker's)."""
    for line in reversed(log.read_text().splitlines()):
        marker = parse_marker(line)
        if marker is not None and marker.time is not None:
            return marker.time
        try:
            when = json.loads(line).get("time")
        except (ValueError, AttributeError):
            continue
        if isinstance(when, str):
            return datetime.fromisoformat(when.replace("Z", "+00:00")[:26] + "+00:00"
                                          if "." in when else when.replace("Z", "+00:00"))
    raise AssertionError(f"{log} has no timed line")


# The recorded running log's last line (the run caught mid-way), to the second.
RUN_NOW = _last_time(LOGS / "running.log").astimezone(UTC).replace(microsecond=0)
# Each app's clock, moved by `advance` (keyed by the app's id).
CLOCKS: dict[int, list[datetime]] = {}


SCENES = {
    "idle": Scene("idle", "idle.log"),
    "running": Scene("running", "running.log", running=True, now=RUN_NOW),
    # The same run, its rclone SIGSTOPped 95 s ago (issue 22): STALLED, the countdown to
    # the watchdog's stop (stall_timeout 30 min), no speed, no ETA, elapsed still counting.
    "stalled": Scene("stalled", "running.log", running=True, now=RUN_NOW, advance=95.0),
    "aborted": Scene("aborted", "aborted.log"),
    "failed": Scene("failed", "failed.log"),
    "preflight-failed": Scene("preflight-failed", "idle.log", press=("s",)),
}
# Issue 22: long paths give way first; the state, the last good mirror's age, elapsed and
# ETA never do (shot at 80x24 and 60x20).
LONG_PATHS = {
    "long-paths": Scene("long-paths", "running.log", running=True, now=RUN_NOW,
                        source="/srv/storage/archive/family/photographs/originals/2026",
                        destination=":b2:miket-space-mirror-offsite-copy/archive/family/"
                                    "photographs/originals/2026",
                        last_good_ago=27 * 3600.0),
}
# Issue 22: a real sync with --transfers 16 caught with 16 files in flight; at 120x40 the
# in-flight box shows them all (it stayed 4 rows).
SIXTEEN = Scene(
    "sixteen", "running-16.log", running=True,
    now=datetime(2026, 12, 7, 2, 25, 40, tzinfo=UTC),
    running_sync=RunningSync(kind="runner", pid=2733, rclone_pid=RCLONE_PID,
                             run_id="20261207T022537-2dbd",
                             started="2026-12-07T02:25:37+00:00", mode="sync",
                             started_by="cli"),
    source="/tmp/space-mirror-recording/sixteen/space",
    destination="/tmp/space-mirror-recording/sixteen/mirror",
    flags=("--transfers", "16", "--bwlimit", "1M"),
    # 16 files at 1 MiB/s in all: rclone reads and writes what the speed says.
    vitals=Vitals(pid=RCLONE_PID, cpu_percent=31.0, rss=96 * 1024 * 1024,
                  read_bps=1_228_800.0, write_bps=1_228_800.0))
ALL_SCENES = {**SCENES, **LONG_PATHS, "sixteen": SIXTEEN}


def make_app(scene: Scene, workdir: Path) -> MirrorApp:
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "space-mirror.log"
    shutil.copy(LOGS / scene.log, log)
    summary = workdir / "summary.json"
    if scene.last_good_ago is not None:
        ended = scene.now.timestamp() - scene.last_good_ago
        summary.write_text(json.dumps({"mode": "sync", "outcome": "success", "exit_code": 0,
                                       "ended": ended, "last_success_ended": ended}))
    job = Job(log_file=log, lock_file=workdir / "lock", env_file=None,
              summary_file=summary, source=scene.source, destination=scene.destination,
              flags=scene.flags)
    running = scene.running_sync if scene.running else None

    def never_launch(argv: list[str]) -> object:
        raise AssertionError("a scene must not start a run")

    clock = [scene.now]
    app = MirrorApp(
        job, [], clock=lambda: clock[0], hostname=HOST,
        vitals_sampler=lambda pid: FixedSampler(pid, scene.vitals),
        find_running=lambda _job: running, preflight=lambda _job: FAILED_CHECKS,
        launcher=never_launch,  # type: ignore[arg-type]
        sample_interval=3600.0,
    )
    CLOCKS[id(app)] = clock
    return app


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
        if scene.advance:
            from datetime import timedelta

            app = pilot.app
            assert isinstance(app, MirrorApp)
            CLOCKS[id(app)][0] += timedelta(seconds=scene.advance)
            app.dashboard.refresh_status()  # what the once-a-second probe does
            await pilot.pause()
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
