"""Child process of the startup benchmark: start an app headless, print when its first frame
is painted, exit. `python -m bench.first_frame minimal|dashboard [CONFIG]`."""

from __future__ import annotations

import sys
import time


def main() -> None:
    which = sys.argv[1]
    from textual.app import App, ComposeResult
    from textual.pilot import Pilot
    from textual.widgets import Footer, Header, Static

    app: App[object]
    if which == "minimal":
        class Minimal(App[object]):
            def compose(self) -> ComposeResult:
                yield Header()
                yield Static("hello")
                yield Footer()

        app = Minimal()
    else:
        from pathlib import Path

        from tui.app.app import MirrorApp
        from tui.config import Overrides, load_job

        job = load_job(Path(sys.argv[2]), None, Overrides())
        app = MirrorApp(job, ["--config", sys.argv[2]])

    async def first_frame(pilot: Pilot[object]) -> None:
        await pilot.pause()  # one full refresh: the first frame is on the (virtual) screen
        print(f"first-frame {time.time():.6f}", flush=True)
        pilot.app.exit()

    app.run(headless=True, size=(80, 24), auto_pilot=first_frame)


if __name__ == "__main__":
    main()
