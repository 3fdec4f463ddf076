"""A fixed Plan screen, built from recorded real dry-run lines: shared by the snapshot tests
and scripts/screenshots.py, so both show the same picture."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from textual.app import App

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
