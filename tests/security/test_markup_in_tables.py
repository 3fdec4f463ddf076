"""Text from outside our config reaches the tables as text, never as Rich markup: a
Prometheus label (any exporter on any host can write one) holding `[/x]` must not stop the
fleet screen, and `[bold]` shows as typed. Textual's DataTable parses a `str` cell as
markup; our tables' cells are tui/app/widgets/tables.Cell."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "snapshots"))

from fleet_scenes import NOW, answers, shown
from textual.widgets import DataTable, Static

from tui.app.fleet_app import FleetApp
from tui.core import fleet

HOSTILE_JOB = "sp[/x]ace[bold]"
HOSTILE_HOST = "nas[b]01"


async def test_fleet_labels_with_markup_are_shown_as_typed() -> None:
    data = answers(1, 1)
    for results in data.values():
        for i, (labels, value, at) in enumerate(results):
            changed = dict(labels)
            if changed.get("job") == "space":
                changed["job"] = HOSTILE_JOB
            if "instance" in changed:
                changed["instance"] = changed["instance"].replace("nas01", HOSTILE_HOST)
            results[i] = (changed, value, at)
    app = FleetApp(lambda: fleet.build_rows(data, NOW, 15.0), 3600.0, "http://prometheus:9090")
    async with app.run_test(size=(100, 24)) as pilot:
        await shown(pilot)
        table = app.screen.query_one(DataTable)
        lines = [table.render_line(y).text for y in range(3)]
        assert any(HOSTILE_JOB[:11] in line for line in lines), lines
        assert any(HOSTILE_HOST in line for line in lines), lines
        await pilot.press("enter")  # the row's own screen: its series and the ssh command
        await pilot.pause()
        title = app.screen.query_one("#fleet-row-title", Static).render()
        assert f"{HOSTILE_JOB} on {HOSTILE_HOST}:9100" in str(title)


def test_a_cell_draws_its_text_as_typed_with_its_style_and_justification() -> None:
    """A styled cell (the history's counts, the fleet's states) is still text, never markup;
    its style and justification are those it was given."""
    from rich.console import Console

    from tui.app.widgets.tables import Cell, right

    console = Console(width=20, color_system="truecolor", force_terminal=True)
    drawn = list(right("[/x] 7", "bold red").__rich_console__(console, console.options))
    assert len(drawn) == 1
    text = drawn[0]
    assert text.plain == "[/x] 7" and str(text.style) == "bold red" and text.justify == "right"
    with console.capture() as out:
        console.print(Cell("[bold]x[/bold]"), end="")
    assert "[bold]x[/bold]" in out.get()


def test_a_cell_cut_by_its_column_says_so() -> None:
    """`last success 60 h ago, over 50 h` in 30 cells: cut silently it read `… over 50`, a
    number without its unit; it ends in `…`."""
    from rich.console import Console

    from tui.app.widgets.tables import Cell

    console = Console(width=30, color_system=None, force_terminal=True)
    with console.capture() as out:
        console.print(Cell("last success 60 h ago, over 50 h"), end="")
    assert out.get().rstrip("\n") == "last success 60 h ago, over 5…"
