"""The benchmarks `python -m bench` runs, by name."""

from __future__ import annotations

from collections.abc import Callable

from bench import b_checks, b_fleet, b_history, b_live, b_startup
from bench.common import Result


def startup(quick: bool) -> list[Result]:
    log, _ = b_history.make_log(32 if quick else 1024)
    config = b_startup.config_for(log)
    runs = 1 if quick else 5
    return [b_startup.run(config, runs=runs), b_startup.history_screen(config, runs=runs),
            b_startup.version(runs=runs)]


BENCHMARKS: dict[str, Callable[[bool], list[Result]]] = {
    "history": b_history.run,
    "startup": startup,
    "ingest": b_live.ingest,
    "watch-overhead": b_live.watch_overhead,
    "memory": b_live.memory,
    # Figures the tests used to assert on the wall clock (see bench/b_checks.py).
    "logview": b_checks.logview,
    "huge-line": b_checks.huge_line,
    "hook-timeout": b_checks.hook_timeout,
    "runner-hook-timeout": b_checks.runner_hook_timeout,
    "flood": b_checks.flood,
    "fleet": b_fleet.run,
}
