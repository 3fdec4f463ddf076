"""Snapshots of the Plan screen, from a fixed plan built from recorded real dry-run lines."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input

from tui.app.screens.plan import PlanScreen
from tui.config import Job
from tui.core.plan import Plan, build_plan

FIXTURE = Path(__file__).parent.parent / "fixtures" / "plan" / "dry_run_folders.jsonl"
JOB = Job(name="photos", source="/srv/space", destination="/mnt/mirror")


def fixture_plan(guard: int) -> Plan:
    plan = build_plan(FIXTURE.read_text(encoding="utf-8").splitlines())
    plan = replace(plan, delete_guard=guard, delete_guard_why="default 50% of 3 destination files")
    if plan.exceeds_guard:
        plan = plan.with_warning(
            f"2 deletes exceed the delete guard of {guard}: the real sync would stop there")
    return plan


class PlanApp(App[None]):
    def __init__(self, plan: Plan) -> None:
        super().__init__()
        self._plan = plan

    def on_mount(self) -> None:
        self.push_screen(PlanScreen(JOB, [], self._plan))


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


def test_confirm_by_name_dialog(snap_compare: Any) -> None:
    async def open_confirm(pilot: Pilot[None]) -> None:
        await pilot.press("r")
        await pilot.pause()
        pilot.app.screen.query_one(Input).cursor_blink = False
        await pilot.press("p", "h", "o")
        await pilot.pause()

    assert snap_compare(PlanApp(fixture_plan(guard=1)), terminal_size=(80, 24),
                        run_before=open_confirm)
