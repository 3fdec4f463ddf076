"""Write SVG screenshots of every dashboard screen to screenshots/ (`make screenshots`).

The data is deterministic: recorded real logs (tests/snapshots/logs/), a fixed clock, host
and vital signs — the same scenes the snapshot tests use.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "snapshots"))
sys.path.insert(0, str(ROOT))

from dashboard_scenes import ALL_SCENES, make_app, settle_then  # noqa: E402

OUT = ROOT / "screenshots"
SIZE = (100, 30)

# (file name, scene, extra keys pressed once the scene is settled, terminal size)
SHOTS: list[tuple[str, str, Sequence[str], tuple[int, int]]] = [
    ("dashboard-idle", "idle", (), SIZE),
    ("dashboard-running", "running", (), SIZE),
    ("dashboard-aborted", "aborted", (), SIZE),
    ("dashboard-failed", "failed", (), SIZE),
    ("dashboard-preflight-failed", "preflight-failed", (), SIZE),
    ("dashboard-errors-only", "failed", ("e",), SIZE),
    ("dashboard-search", "running", ("slash", *"raw-0", "enter"), SIZE),
    ("dialog-abort", "running", ("a",), SIZE),
    ("dialog-quit", "running", ("q",), SIZE),
    ("help", "idle", ("question_mark",), SIZE),
    ("history", "failed", ("h",), SIZE),
    ("dashboard-small-60x20", "running", (), (60, 20)),
    ("dashboard-tiny-40x10", "running", (), (40, 10)),
    ("dashboard-failed-80x24", "failed", (), (80, 24)),
    ("last-run-80x24", "failed", ("l",), (80, 24)),
    ("dialog-bandwidth", "running", ("w",), SIZE),
    ("dashboard-stalled-80x24", "stalled", (), (80, 24)),
    ("dashboard-long-paths-80x24", "long-paths", (), (80, 24)),
    ("dashboard-long-paths-60x20", "long-paths", (), (60, 20)),
    ("dashboard-16-transfers-120x40", "sixteen", (), (120, 40)),
]


async def shoot(name: str, scene_name: str, keys: Sequence[str], size: tuple[int, int],
                workdir: Path) -> Path:
    scene = ALL_SCENES[scene_name]
    app = make_app(scene, workdir / name)
    async with app.run_test(size=size) as pilot:
        await settle_then(scene)(pilot)
        if keys:
            first = pilot.app.screen
            await pilot.press(*keys)
            # A key that opens a screen may load it in a worker first (`l` reads the
            # history): wait for the new screen, then let it compose and paint.
            deadline = time.monotonic() + 10
            while pilot.app.screen is first and time.monotonic() < deadline:
                await pilot.pause(0.05)
            await pilot.pause(0.3)
        await pilot.pause()
        path = Path(app.save_screenshot(filename=f"{name}.svg", path=str(OUT)))
    return path


async def loaded(pilot: Any) -> None:
    """The screen's worker is done and its answer shown (workers post messages)."""
    await pilot.app.workers.wait_for_complete()
    deadline = time.monotonic() + 10
    while not getattr(pilot.app.screen, "loaded", False) and time.monotonic() < deadline:
        await pilot.pause(0.02)
    await pilot.pause()


async def shoot_history() -> list[Path]:
    """The history screen and a run's detail, from the recorded fixture log
    (tests/fixtures/history/mixed.log: real runs through the legacy wrapper and the runner)."""
    sys.path.insert(0, str(ROOT / "tests" / "history"))
    from screens_app import HistoryApp

    shots = [("history-list", (), (100, 30)),
             ("history-list-80x24", (), (80, 24)),
             ("history-failures-only", ("f",), (100, 30)),
             ("history-search", ("slash", *"new.txt", "enter"), (100, 30)),
             ("history-run-detail", ("down", "down", "down", "enter"), (100, 30)),
             ("history-run-detail-errors", ("down",) * 11 + ("enter", "e"), (100, 30))]
    paths: list[Path] = []
    for name, keys, size in shots:
        app = HistoryApp()
        async with app.run_test(size=size) as pilot:
            await loaded(pilot)
            for key in keys:
                await pilot.press(key)
                await loaded(pilot)
            paths.append(Path(app.save_screenshot(filename=f"{name}.svg", path=str(OUT))))
    return paths


async def shoot_plan() -> list[Path]:
    """The Plan screen (p), from recorded real dry-run lines (tests/fixtures/plan)."""
    sys.path.insert(0, str(ROOT / "tests" / "safety"))
    from plan_scene import PlanApp, fixture_plan
    from textual.widgets import Input

    shots = [("plan", 1, ()), ("plan-delete", 5, ("right",)), ("plan-confirm", 1, ("r",))]
    paths: list[Path] = []
    for name, guard, keys in shots:
        app = PlanApp(fixture_plan(guard=guard))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            for key in keys:
                await pilot.press(key)
                await pilot.pause(0.3)
            for field in app.screen.query(Input):
                field.cursor_blink = False
            if name == "plan-confirm":
                await pilot.press("p", "h", "o")
            await pilot.pause()
            paths.append(Path(app.save_screenshot(filename=f"{name}.svg", path=str(OUT))))
    return paths


async def shoot_overview(work: Path) -> list[Path]:
    """Every job on one screen: three jobs, and twenty at 80x24."""
    from overview_scenes import overview_app, surveyed

    paths: list[Path] = []
    for name, count, size in (("overview", 3, SIZE), ("overview-20-jobs-80x24", 20, (80, 24))):
        app = overview_app(work / name, count)
        async with app.run_test(size=size) as pilot:
            await surveyed(pilot)
            paths.append(Path(app.save_screenshot(filename=f"{name}.svg", path=str(OUT))))
    return paths


async def shoot_fleet() -> list[Path]:
    """Every host's jobs (`space-mirror fleet`), from a fixed fleet (fleet_scenes.py), and
    one row opened."""
    from fleet_scenes import fleet_app, shown

    paths: list[Path] = []
    for name, keys in (("fleet-80x24", ()), ("fleet-row-80x24", ("enter",))):
        app = fleet_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await shown(pilot)
            for key in keys:
                await pilot.press(key)
                await pilot.pause(0.3)
            paths.append(Path(app.save_screenshot(filename=f"{name}.svg", path=str(OUT))))
    return paths


async def main() -> None:
    OUT.mkdir(exist_ok=True)
    # A fixed work folder: the help screen shows the log's path, and the pictures must not
    # change from one run of this script to the next.
    work = Path(tempfile.gettempdir()) / "space-mirror-screenshots"
    shutil.rmtree(work, ignore_errors=True)
    for name, scene, keys, size in SHOTS:
        path = await shoot(name, scene, keys, size, work)
        print(path.relative_to(ROOT))
    for path in [*await shoot_history(), *await shoot_plan(), *await shoot_overview(work),
                 *await shoot_fleet()]:
        print(path.relative_to(ROOT))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
