"""The fleet screen (`space-mirror fleet`) on a fixed fleet (fleet_scenes.py): its picture at
80x24, the `/` filter, Enter on a row of another host (its series and the ssh command) and
of this host (the app ends with the job, which the CLI opens), and a failed refresh."""

from __future__ import annotations

import time
from typing import Any

from fleet_scenes import NOW, answers, fleet_app, shown
from textual.widgets import DataTable, Input, Static

from tui.app.fleet_app import FleetApp
from tui.app.screens.fleet import FleetRowScreen, FleetScreen
from tui.core import fleet


def test_fleet_80x24(snap_compare: Any) -> None:
    assert snap_compare(fleet_app(), terminal_size=(80, 24), run_before=shown)


def cells(app: FleetApp) -> list[list[str]]:
    table = app.screen.query_one(DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def title(app: FleetApp) -> str:
    return str(app.screen.query_one("#fleet-title", Static).render())


async def test_sorted_by_need_counted_and_fits_80_columns() -> None:
    app = fleet_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await shown(pilot)
        states = [row[2] for row in cells(app)]
        order = [fleet.STATES.index(s) for s in states]
        assert order == sorted(order) and states[0] == "stalled" and states[-1] == "ok"
        assert "2 stalled · 4 failed · 2 stale · 2 running · 5 ok" in title(app)
        assert "not answering: old06:9100" in title(app)
        assert app.screen.query_one(DataTable).virtual_size.width <= 80


async def test_filter_then_escape() -> None:
    app = fleet_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await shown(pilot)
        await pilot.press("slash", *"web02 stale", "enter")
        assert [r[:3] for r in cells(app)] == [["web02", "flux", "stale"]]
        assert "filter 'web02 stale': 1 of 15" in title(app)
        await pilot.press("escape")
        assert len(cells(app)) == 15
        assert not app.screen.query_one(Input).display


async def test_enter_shows_the_series_and_the_ssh_command() -> None:
    app = fleet_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await shown(pilot)
        assert cells(app)[0][:2] == ["lab04", "space"]
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, FleetRowScreen)
        text = "\n".join(str(s.render()) for s in screen.query(Static))
        assert "ssh lab04 space-mirror --job space" in text
        assert "space_mirror_run_last_progress_timestamp_seconds = " in text
        assert "running, no progress for 5 min" in text
        # Stalled: rclone's 0 s is no ETA (the table's reading, Row.eta), not "done in 0s".
        assert "space_mirror_run_eta_seconds = 0  (ETA —)" in text
        await pilot.press("q")
        assert isinstance(app.screen, FleetScreen)


async def test_enter_on_this_host_ends_with_the_job_to_open() -> None:
    app = fleet_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await shown(pilot)
        await pilot.press("j")  # the second row: nas01 photos, and nas01 is "this host"
        assert cells(app)[1][:2] == ["nas01", "photos"]
        await pilot.press("enter")
        await pilot.pause()
    assert app.return_value == "photos"


async def test_a_failed_refresh_keeps_the_rows_and_says_why() -> None:
    data = answers(2, 2)
    calls = {"n": 0}

    def read() -> fleet.Fleet:
        calls["n"] += 1
        if calls["n"] > 1:
            raise OSError("Prometheus at http://p:9090 cannot be reached: refused")
        return fleet.build_rows(data, NOW)

    app = FleetApp(read, 3600.0, "http://p:9090")
    async with app.run_test(size=(80, 24)) as pilot:
        await shown(pilot)
        await pilot.press("r")
        deadline = time.monotonic() + 10
        while "not refreshed" not in title(app):
            assert time.monotonic() < deadline, title(app)
            await pilot.pause(0.02)
        assert "cannot be reached: refused" in title(app)
        assert len(cells(app)) == 4


def _detail_column(app: FleetApp) -> int:
    return next(c.width for c in app.screen.query_one(DataTable).columns.values()
                if str(c.label) == "Detail")


async def test_the_detail_takes_the_room_short_names_leave_and_follows_a_resize() -> None:
    """Six-letter hosts and jobs at 80 columns: the reason is read whole (it was cut to
    `last run failed (ex`); wider, the longest reason fits; the table never scrolls."""
    app = fleet_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await shown(pilot)
        table = app.screen.query_one(DataTable)
        assert _detail_column(app) >= len("last run failed (exit 7)")
        assert table.virtual_size.width <= 80
        longest = max(len(r.detail()) for r in app.screen.fleet.rows)  # type: ignore[attr-defined]
        assert _detail_column(app) < longest  # `… over 50 h` does not fit 80 columns
        await pilot.resize_terminal(120, 30)
        await pilot.pause()
        assert _detail_column(app) >= longest
        assert len(cells(app)) == 15 and table.virtual_size.width <= 120
        await pilot.resize_terminal(60, 20)
        await pilot.pause()
        assert _detail_column(app) == fleet.DETAIL_MIN and len(cells(app)) == 15


def test_a_running_rows_eta_series_reads_as_the_table_reads_it() -> None:
    rows = fleet.build_rows(answers(5, 3), NOW, 15.0).rows
    running = next(r for r in rows if r.state == fleet.RUNNING)
    stalled = next(r for r in rows if r.state == fleet.STALLED)
    eta = [line for line in fleet.series_lines(running, NOW) if "run_eta_seconds" in line]
    assert eta == [f"space_mirror_run_eta_seconds = {int(running.series['run_eta_seconds'])}"
                   f"  (ETA {running.eta})"] and running.eta == "49m36s"
    assert any(line.endswith("(ETA —)") for line in fleet.series_lines(stalled, NOW))
