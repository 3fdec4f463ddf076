"""Snapshots of the Plan screen, from a fixed plan built from recorded real dry-run lines."""

from __future__ import annotations

from typing import Any

import pytest
from plan_scene import PlanApp, fixture_plan
from textual.pilot import Pilot
from textual.widgets import Input


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_plan_screen_guard_exceeded(snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(PlanApp(fixture_plan(guard=1)), terminal_size=size)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_plan_screen_delete_tab(snap_compare: Any, size: tuple[int, int]) -> None:
    async def show_deletes(pilot: Pilot[None]) -> None:
        await pilot.press("right")  # from the Copy tab to the Delete tab
        await pilot.pause()

    assert snap_compare(PlanApp(fixture_plan(guard=5)), terminal_size=size,
                        run_before=show_deletes)


def test_plan_screen_search(snap_compare: Any) -> None:
    """`/` over the file lists: the match `music box/song.flac` is on the Delete tab."""
    async def search(pilot: Pilot[None]) -> None:
        await pilot.press("slash", *"song", "enter")
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(PlanApp(fixture_plan(guard=5)), terminal_size=(80, 24),
                        run_before=search)


def test_confirm_by_name_dialog(snap_compare: Any) -> None:
    async def open_confirm(pilot: Pilot[None]) -> None:
        await pilot.press("r")
        await pilot.pause()
        pilot.app.screen.query_one(Input).cursor_blink = False
        await pilot.press("p", "h", "o")
        await pilot.pause()

    assert snap_compare(PlanApp(fixture_plan(guard=1)), terminal_size=(80, 24),
                        run_before=open_confirm)
