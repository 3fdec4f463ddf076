"""Child process of the CI gate (tests/history/test_gate_bounded.py) and of `make bench`:
the real dashboard, headless, on a job's log.

    python -m bench.dashboard_probe modules CONFIG   modules imported at the first frame
    python -m bench.dashboard_probe rss CONFIG       peak RSS (VmHWM, MB) once the last run
                                                     is replayed and the history read
    python -m bench.dashboard_probe final CONFIG     seconds from process start until the
                                                     last run's final figures are shown
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any


def _app(config: str) -> Any:
    from tui.app.app import MirrorApp
    from tui.config import Overrides, load_job

    job = load_job(Path(config), None, Overrides())
    return MirrorApp(job, ["--config", config], hostname="gate")


def modules(config: str) -> None:
    from textual.app import App

    app = _app(config)
    original = App._display
    seen: list[list[str]] = []

    def display(self: Any, screen: Any, renderable: Any) -> None:
        original(self, screen, renderable)
        if renderable is not None and not self._batch_count and not seen:
            seen.append(sorted(sys.modules))
            self.exit()

    App._display = display  # type: ignore[method-assign]
    app.run(headless=True, size=(80, 24))
    print(json.dumps(seen[0] if seen else []))


def _vm_hwm_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


async def _final(config: str, born: float) -> None:
    from tui.core.runstate import Phase

    app = _app(config)
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.monotonic() + 120
        while app.run_state.phase is not Phase.ENDED:
            if time.monotonic() > deadline:
                raise SystemExit("the dashboard never showed the run's end")
            await pilot.pause(0.01)
        took = time.time() - born
        print(json.dumps({"seconds": took, "lines": app.run_state.lines}))


async def _rss(config: str) -> None:
    from tui.app.widgets.status import StatusPanel
    from tui.core.runstate import Phase

    app = _app(config)
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            state = app.run_state
            panels = list(app.query(StatusPanel))
            if state.phase is Phase.ENDED and panels and panels[0]._runs:
                break
            await pilot.pause(0.05)
        else:
            raise SystemExit("the dashboard never finished reading the log")
        print(json.dumps({"peak_mb": _vm_hwm_mb(), "runs": len(panels[0]._runs)}))


if __name__ == "__main__":
    if sys.argv[1] == "modules":
        modules(sys.argv[2])
    elif sys.argv[1] == "final":
        asyncio.run(_final(sys.argv[2], float(sys.argv[3])))
    else:
        asyncio.run(_rss(sys.argv[2]))
