"""Child process of the startup benchmarks: start an app headless, print when its first frame
is painted (or, for `history`, the first frame showing the loaded runs), exit.
`python -m bench.first_frame minimal|dashboard|history|overview [CONFIG]`, or
`python -m bench.first_frame fleet URL` (the first frame showing the fleet's rows)."""

from __future__ import annotations

import sys
import time
from typing import Any


def main() -> None:
    which = sys.argv[1]
    if which == "fleet":
        # As `space-mirror fleet` does: the first read starts before the screen's imports.
        from tui.config import FleetConfig
        from tui.ops import prometheus

        reader = prometheus.FleetReader(
            prometheus.Client(FleetConfig(prometheus=sys.argv[2])), None)
    from textual.app import App, ComposeResult
    from textual.widgets import Footer, Header, Static

    app: App[Any]
    if which == "minimal":
        class Minimal(App[object]):
            def compose(self) -> ComposeResult:
                yield Header()
                yield Static("hello")
                yield Footer()

        app = Minimal()
    elif which == "overview":
        from pathlib import Path

        from tui.app.app import MirrorApp
        from tui.config import Overrides, job_names, load_job

        config = Path(sys.argv[2])
        jobs = [(load_job(config, n, Overrides()), ["--job", n]) for n in job_names(config)]
        app = MirrorApp(jobs[0][0], jobs[0][1], jobs=jobs)
    elif which == "fleet":
        # The first frame that shows the fleet's rows (read from the real Prometheus).
        from tui.app.fleet_app import FleetApp
        from tui.app.screens.fleet import FleetScreen

        shown_fleet = FleetScreen.show

        def show(self: FleetScreen) -> None:
            shown_fleet(self)
            loaded.append(True)

        FleetScreen.show = show  # type: ignore[method-assign]
        app = FleetApp(reader, None, reader.client.base)
    else:
        from pathlib import Path

        from tui.app.app import MirrorApp
        from tui.config import Overrides, load_job

        job = load_job(Path(sys.argv[2]), None, Overrides())
        if which == "history":
            from tui.app.screens.history import HistoryScreen

            shown_history = HistoryScreen.show_history

            def show_history(self: HistoryScreen, history: Any) -> None:
                shown_history(self, history)
                loaded.append(True)

            HistoryScreen.show_history = show_history  # type: ignore[method-assign]

            class HistoryOnly(App[object]):
                def on_mount(self) -> None:
                    self.push_screen(HistoryScreen(job))

            app = HistoryOnly()
        else:
            app = MirrorApp(job, ["--config", sys.argv[2]])

    # The first frame is the first finished screen update handed to the driver (headless,
    # the driver writes nothing, but the frame has been composed and rendered all the same).
    original = App._display

    def display(self: App[object], screen: Any, renderable: Any) -> None:
        original(self, screen, renderable)
        ready = which not in ("history", "fleet") or loaded
        if renderable is not None and not self._batch_count and not shown and ready:
            shown.append(time.time())
            print(f"first-frame {shown[0]:.6f}", flush=True)  # for history: with its runs
            self.exit()

    shown: list[float] = []
    loaded: list[bool] = []
    App._display = display  # type: ignore[method-assign,assignment]
    app.run(headless=True, size=(80, 24))

if __name__ == "__main__":
    main()
