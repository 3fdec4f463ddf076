"""One key table per screen generates its bindings, its help and its palette (issue 14
item 2). Everything here is derived from the screens' own BINDINGS and KEYS: nothing is a
copied list of titles."""

from __future__ import annotations

import pytest
from app_helpers import JobDir, screen_text, wait_until
from textual.binding import Binding
from textual.screen import Screen

from tui.app import keys as K
from tui.app.app import MirrorApp
from tui.app.screens.base import KeyedScreen
from tui.app.screens.dashboard import DashboardScreen
from tui.app.screens.dialogs import HelpScreen
from tui.app.screens.fleet import FleetRowScreen, FleetScreen
from tui.app.screens.history import HistoryScreen
from tui.app.screens.overview import OverviewScreen
from tui.app.screens.plan import PlanScreen
from tui.app.screens.run_detail import RunDetailScreen

SCREENS: list[type[KeyedScreen]] = [DashboardScreen, HistoryScreen, RunDetailScreen,
                                    OverviewScreen, PlanScreen, FleetScreen, FleetRowScreen]
# Keys that are not actions one would pick from a list: moving, Esc, n/N (nothing to do
# without a search typed after /) and ctrl+q (the palette's own Quit comes from q). Named by
# their Key objects, not by copied titles.
NOT_IN_PALETTE = {*K.NAVIGATION, *K.LOG_NAVIGATION, K.ESCAPE, K.QUIT, *K.SEARCH[1:]}


def reachable(screen: type[Screen[object]]) -> set[tuple[str, str]]:
    """(key, action name) for every binding of the screen class, twins included."""
    out = set()
    for b in screen.BINDINGS:
        assert isinstance(b, Binding)
        for key in b.key.split(","):
            out.add((key.strip(), K.action_name(b.action)))
    return out


@pytest.mark.parametrize("screen", SCREENS, ids=lambda s: s.__name__)
def test_every_bound_key_is_in_the_table_with_a_method(screen: type[KeyedScreen]) -> None:
    declared = {(key.strip(), K.action_name(k.action))
                for k in screen.KEYS for key in k.keys.split(",")}
    assert reachable(screen) == declared
    for k in screen.KEYS:
        name = K.action_name(k.action)
        owner = screen if not name.startswith("app.") else MirrorApp
        assert callable(getattr(owner, f"action_{name.removeprefix('app.')}", None)), k


@pytest.mark.parametrize("screen", SCREENS, ids=lambda s: s.__name__)
def test_every_key_is_in_help_and_every_action_in_the_palette(
        screen: type[KeyedScreen]) -> None:
    rows = dict(K.help_rows(screen.KEYS))
    for k in screen.KEYS:
        assert rows.get(k.shown_keys)
    palette = {K.action_name(k.action) for k in K.palette_entries(screen.KEYS)}
    for k in screen.KEYS:
        if k not in NOT_IN_PALETTE:
            assert K.action_name(k.action) in palette, k


async def test_the_palette_and_help_of_the_running_app(job_dir: JobDir) -> None:
    """What the operator sees: ?'s screen lists every key of the dashboard, and the palette
    offers every action of the table, and none of Textual's own entries."""
    app = MirrorApp(job_dir.job, job_dir.args, hostname="h")
    async with app.run_test(size=(100, 60)) as pilot:
        await wait_until(pilot, lambda: app.caught_up, what="settle")
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        commands = list(app.get_system_commands(screen))
        titles = {c.title for c in commands}
        expected = {k.palette_title for k in K.palette_entries(screen.KEYS, first=True)}
        assert titles == expected
        # The first screen's q quits; "Back" (to an overview there is not) is not offered.
        assert K.QUIT_TOP.palette_title in titles and "Back" not in titles
        assert not titles & {"Theme", "Screenshot", "Keys", "Maximize", "Minimize"}
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        shown = screen_text(pilot)
        for key, text in K.help_rows(screen.KEYS, first=True):
            assert key in shown and text[:30] in shown, key
        assert K.BACK_TO_OVERVIEW.help not in shown  # only what works here
        await pilot.press("q")  # q closes the help, not the app
        await wait_until(pilot, lambda: app.screen is screen, what="back from help")


async def test_a_palette_command_runs_its_action(job_dir: JobDir) -> None:
    app = MirrorApp(job_dir.job, job_dir.args, hostname="h")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.caught_up, what="settle")
        screen = app.screen
        command = next(c for c in app.get_system_commands(screen)
                       if c.title == K.HELP.palette_title)
        await command.callback()  # type: ignore[misc]
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")


async def test_q_means_back_on_a_dashboard_opened_from_the_overview(tmp_path) -> None:
    """One DashboardScreen (no subclass for the overview's case): its key table holds both
    meanings of q, and only the one that applies shows, in the footer and in the help."""
    from dataclasses import replace

    from app_helpers import make_job_dir

    from tui.config import Job

    jobs: list[Job] = []
    for name in ("a", "b"):
        jd = make_job_dir(tmp_path / name, files=2)
        jobs.append(replace(jd.job, name=name))
    app = MirrorApp(jobs[0], [], hostname="h", jobs=[(j, []) for j in jobs])
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, OverviewScreen), what="overview")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen), what="dash")
        await wait_until(pilot, lambda: "q Back" in screen_text(pilot), what="q Back")
        assert "q Quit" not in screen_text(pilot)
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, OverviewScreen), what="back")


def test_help_lists_only_what_works_on_the_screen() -> None:
    """Issue 22, item 7: the overview's `?` said `G … (the log follows again)` and `Esc clear
    the search or filter`, though it has no log, no search and no filter."""
    overview = " ".join(help for _, help in K.help_rows(OverviewScreen.KEYS, first=True))
    assert "log" not in overview and "search" not in overview, overview
    dashboard = " ".join(help for _, help in K.help_rows(DashboardScreen.KEYS, first=True))
    assert "the log follows again" in dashboard
