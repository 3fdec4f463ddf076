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
        # A run has ended: one written before we started (replayed from its start marker),
        # or one we watched from its start. The parent removes the log before a new run.
        while time.monotonic() < deadline:
            state = app.run_state
            if state.phase is Phase.ENDED and state.run_id is not None:
                break
            await pilot.pause(0.05)
        lines = app.run_state.lines
    return {"seconds": time.perf_counter() - started, "lines": lines,
            "peak_rss_mb": peak_rss_mb()}


def peak_rss_mb() -> float:
    """This process's own peak RSS. Not getrusage's ru_maxrss: Linux keeps that across
    execve, so a child of a big parent reports the parent's peak (seen: 2 GiB for both)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("config", type=Path)
    ap.add_argument("--ready", type=Path)
    ap.add_argument("--timeout", type=float, default=600)
    ns = ap.parse_args()
    print(json.dumps(asyncio.run(follow(ns.config, ns.ready, ns.timeout))), flush=True)


if __name__ == "__main__":
    main()
