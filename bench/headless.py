"""Child process of the live benchmarks: the real dashboard, headless, following a job's log
until the run there has ended; then prints its peak RSS and how many lines it saw.

    python -m bench.headless CONFIG [--ready FILE]

--ready FILE is touched once the dashboard has painted and follows the log, so that the
parent can start a sync knowing the dashboard is attached.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
from pathlib import Path


async def follow(config: Path, ready: Path | None, timeout: float) -> dict[str, float]:
    from tui.app.app import MirrorApp
    from tui.config import Overrides, load_job
    from tui.core.runstate import Phase

    job = load_job(config, None, Overrides())
    app = MirrorApp(job, ["--config", str(config)], hostname="bench")
    started = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        if ready is not None:
            ready.touch()
        deadline = time.monotonic() + timeout
        seen_running = False
        while time.monotonic() < deadline:
            state = app.run_state
            seen_running = seen_running or state.phase is Phase.RUNNING
            if seen_running and state.phase is Phase.ENDED:
                break
            await pilot.pause(0.05)
        lines = app.run_state.lines
    return {"seconds": time.perf_counter() - started, "lines": lines,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("config", type=Path)
    ap.add_argument("--ready", type=Path)
    ap.add_argument("--timeout", type=float, default=600)
    ns = ap.parse_args()
    print(json.dumps(asyncio.run(follow(ns.config, ns.ready, ns.timeout))), flush=True)


if __name__ == "__main__":
    main()
