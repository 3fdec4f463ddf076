"""Snapshots of the overview (every job on one screen) and of help on each screen.

The overview replays recorded real logs (tests/snapshots/logs/) with a fixed clock, probe
and timer list, so the picture has no jitter.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from dashboard_scenes import SCENES, make_app, settle
from overview_scenes import overview_app, surveyed
from textual.pilot import Pilot

from tui.app.screens.overview import OverviewScreen


@pytest.mark.parametrize("count", [3, 20])
def test_overview(snap_compare: Any, tmp_path: Path, count: int) -> None:
    assert snap_compare(overview_app(tmp_path, count), terminal_size=(80, 24),
                        run_before=surveyed)


def _help_after(*keys: str, loaded: bool = False) -> Any:
    async def run_before(pilot: Pilot[int]) -> None:
        screen = pilot.app.screen
        if isinstance(screen, OverviewScreen):
            await surveyed(pilot)
        else:
            await settle(pilot)
        for key in keys:
            await pilot.press(key)
            deadline = time.monotonic() + 10
            while not getattr(pilot.app.screen, "loaded", True):
                assert time.monotonic() < deadline, "the screen never loaded"
                await pilot.pause(0.02)
            await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        await pilot.pause()
    return run_before


@pytest.mark.parametrize("where,keys", [
    ("dashboard", ()), ("history", ("h",)), ("run-detail", ("h", "enter"))],
    ids=["dashboard", "history", "run-detail"])
def test_help_on_each_screen(snap_compare: Any, where: str, keys: tuple[str, ...]) -> None:
    # A fixed folder: the history's title and the help's last line show the log's path.
    workdir = Path(tempfile.gettempdir()) / "space-mirror-help-snapshots" / where
    shutil.rmtree(workdir, ignore_errors=True)
    app = make_app(SCENES["failed"], workdir)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_help_after(*keys))


def test_help_on_the_overview(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(overview_app(tmp_path, 3), terminal_size=(80, 24),
                        run_before=_help_after())
