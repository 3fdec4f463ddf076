"""The Plan screen with a real job: it computes the plan in a worker (real dry run), and
"run for real" starts the real runner detached with --allow-deletes = the plan's deletes."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from safety_helpers import Fingerprint, MirrorJob, fingerprint
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input

from tui.app.screens.plan import ConfirmByNameScreen, PlanScreen
from tui.config import Overrides, load_job
from tui.core.markers import MarkerKind
from tui.ops.processes import Launched

DEADLINE = 30.0


class Host(App[None]):
    def __init__(self, screen: PlanScreen) -> None:
        super().__init__()
        self._screen = screen
        self.result: list[Launched | None] = []

    def on_mount(self) -> None:
        self.push_screen(self._screen, self.result.append)


async def _until(pilot: Pilot[None], cond: Callable[[], bool], what: str) -> None:
    end = time.monotonic() + DEADLINE
    while not cond():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        await pilot.pause(0.05)


def _wait_runner(launched: Launched) -> int:
    code = launched.process.wait(timeout=DEADLINE)
    os.unlink(launched.stderr_path)
    return code


def _screen(mirror: MirrorJob) -> PlanScreen:
    job = load_job(mirror.config, mirror.name, Overrides())
    return PlanScreen(job, ["--config", str(mirror.config), "--job", mirror.name])


async def test_screen_computes_the_plan_and_runs_it(
        mirror: MirrorJob, seeded: Callable[[int], Fingerprint]) -> None:
    seeded(6)
    (mirror.src / "docs" / "f000.bin").unlink()
    (mirror.src / "new.bin").write_bytes(b"n" * 50)
    screen = _screen(mirror)
    app = Host(screen)
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(pilot, lambda: screen.plan is not None or bool(screen.problems), "the plan")
        assert not screen.problems, screen.problems
        plan = screen.plan
        assert plan is not None
        assert [f.path for f in plan.deletes] == ["docs/f000.bin"]
        assert [f.path for f in plan.copies] == ["new.bin"]
        assert plan.delete_guard == 3 and not plan.exceeds_guard
        await pilot.press("r")
        await _until(pilot, lambda: bool(app.result), "the screen to close")
    launched = app.result[0]
    assert launched is not None
    assert _wait_runner(launched) == 0
    start, end = mirror.last_start(), mirror.last_end()
    assert start.fields["by"] == "dashboard" and start.fields["max_delete"] == "1"
    assert end.kind is MarkerKind.COMPLETE and end.fields["deletes"] == "1"
    assert fingerprint(mirror.dst) == fingerprint(mirror.src)


async def test_deletes_above_the_guard_need_the_jobs_name(
        mirror: MirrorJob, seeded: Callable[[int], Fingerprint]) -> None:
    seeded(6)
    mirror.configure(max_delete=2)
    for p in ("docs/f000.bin", "photos/f001.bin", "music/f002.bin"):
        (mirror.src / p).unlink()  # 3 deletes, above the guard of 2
    before = fingerprint(mirror.dst)
    screen = _screen(mirror)
    app = Host(screen)
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(pilot, lambda: screen.plan is not None or bool(screen.problems), "the plan")
        assert not screen.problems, screen.problems
        assert screen.plan is not None and screen.plan.exceeds_guard
        await pilot.press("r")
        await _until(pilot, lambda: isinstance(app.screen, ConfirmByNameScreen), "the dialog")
        app.screen.query_one(Input).value = "wrong"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmByNameScreen)  # still asking
        assert not app.result
        await pilot.press("escape")  # cancel: back on the plan, nothing started
        await _until(pilot, lambda: app.screen is screen, "the plan screen")
        assert fingerprint(mirror.dst) == before
        await pilot.press("r")
        await _until(pilot, lambda: isinstance(app.screen, ConfirmByNameScreen), "the dialog")
        app.screen.query_one(Input).value = mirror.name
        await pilot.press("enter")
        await _until(pilot, lambda: bool(app.result), "the screen to close")
    launched = app.result[0]
    assert launched is not None
    assert "--allow-deletes" in launched.process.args  # type: ignore[operator]
    assert _wait_runner(launched) == 0
    assert mirror.last_start().fields["max_delete"] == "3"
    assert mirror.last_end().fields["deletes"] == "3"


async def test_refused_plan_shows_why(mirror: MirrorJob,
                                      seeded: Callable[[int], Fingerprint]) -> None:
    seeded(6)
    mirror.configure(sentinel=".space-mirror-sentinel")
    screen = _screen(mirror)
    app = Host(screen)
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(pilot, lambda: bool(screen.problems), "the refusal")
        assert screen.problems[0] == "No plan (exit 78):"
        assert "sentinel" in screen.problems[1]
        await pilot.press("r")  # no plan: nothing starts
        await pilot.press("escape")
        await _until(pilot, lambda: bool(app.result), "the screen to close")
    assert app.result == [None]


def _footer(screen: PlanScreen) -> list[str]:
    from textual.widgets._footer import FooterKey

    return [k.description for k in screen.query(FooterKey)]


async def test_loaded_plan_keeps_its_footer_and_searches_its_files(
        mirror: MirrorJob, seeded: Callable[[int], Fingerprint]) -> None:
    """Issue 15: `r Run for real` stays in the footer once the real dry run's plan arrives
    (the recompose used to leave an empty footer), and `/` searches the file lists."""
    from textual.widgets import Static, TabbedContent, Tree

    seeded(6)
    for p in ("docs/f000.bin", "music/f002.bin"):
        (mirror.src / p).unlink()  # 2 deletes, within the guard of 3
    (mirror.src / "docs" / "new-a.bin").write_bytes(b"a" * 70)
    (mirror.src / "extra").mkdir()
    (mirror.src / "extra" / "f900.bin").write_bytes(b"b" * 90)
    screen = _screen(mirror)
    app = Host(screen)
    async with app.run_test(size=(80, 24)) as pilot:
        await _until(pilot, lambda: screen.plan is not None or bool(screen.problems), "the plan")
        assert not screen.problems, screen.problems
        await _until(pilot, lambda: "Run for real" in _footer(screen), "the footer's r key")
        assert "Search" in _footer(screen)
        await pilot.press("slash", *"f00", "enter")  # the two deletes, not f900 (a copy)
        tabs = screen.query_one("#plan-tabs", TabbedContent)
        tree = screen.query_one("#tree-delete", Tree)
        await _until(pilot, lambda: tree.cursor_node is not None
                     and tree.cursor_node.data == "docs/f000.bin", "the first match")
        assert tabs.active == "tab-delete"
        find = screen.query_one("#plan-find", Static)
        assert "/f00: 1/2" in str(find.render())
        await pilot.press("n")
        await _until(pilot, lambda: tree.cursor_node is not None
                     and tree.cursor_node.data == "music/f002.bin", "the second match")
        assert "2/2" in str(find.render())
        await pilot.press("slash", *"new-a", "enter")  # a copy: back to the Copy tab
        copies = screen.query_one("#tree-copy", Tree)
        await _until(pilot, lambda: copies.cursor_node is not None
                     and copies.cursor_node.data == "docs/new-a.bin", "the copy's match")
        assert tabs.active == "tab-copy"
        await pilot.press("escape")  # clears the search, stays on the plan
        assert app.screen is screen and not find.display
        assert "Run for real" in _footer(screen)
        await pilot.press("escape")
        await _until(pilot, lambda: bool(app.result), "the screen to close")
    assert app.result == [None]
