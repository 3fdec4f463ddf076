"""The fleet's own small app: FleetScreen as its first screen (`space-mirror fleet`).

Enter on a row of this host ends the app with the job's name, and the CLI opens that
job's dashboard in its place (the dashboard needs this host's config, which the CLI has).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from tui.app import keys as K
from tui.app.screens.fleet import FleetScreen
from tui.app.styles import css_path
from tui.core import fleet


class FleetApp(App[str | None]):
    CSS_PATH = css_path("app.tcss")
    TITLE = "space-mirror fleet"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True)]

    def __init__(self, read: Callable[[], fleet.Fleet], interval: float | None, source: str,
                 local_hosts: frozenset[str] = frozenset()) -> None:
        super().__init__()
        self._read = read
        self.interval = interval
        self.source = source
        self.local_hosts = local_hosts

    def get_default_screen(self) -> Screen[Any]:
        return FleetScreen(self._read, self.interval, self.source, self.local_hosts,
                           open_local=lambda row: self.exit(row.job))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        table: tuple[K.Key, ...] = getattr(screen, "KEYS", ())
        for key in K.palette_entries(table):
            yield SystemCommand(key.palette_title, f"{key.help} ({key.shown_keys})",
                                lambda key=key: self.run_action(
                                    K.runnable_action(key), screen))


def run_fleet_app(reader: Callable[[], fleet.Fleet], source: str,
                  interval: float | None = None) -> str | None:
    """Run the fleet screen; the name of a job of this host to open, or None."""
    from tui.ops import prometheus

    app = FleetApp(reader, interval, source, prometheus.local_hosts())
    app.run()
    return app.return_value
