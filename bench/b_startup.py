"""startup: from process start to the dashboard's first frame, with a big log present.

Baseline: a minimal Textual app (Header, Static, Footer) started the same way. Target ≤ 1.3×
(issue 21). The history must load in the background: a big log must not delay the first paint.

version: `space-mirror --version` vs `python -c pass` (the interpreter's own start, with the
same site packages). Target ≤ 1.5×.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from bench.common import Result, median_of_pair, time_to_first_frame


def run(config: Path, runs: int) -> Result:
    time_to_first_frame(["minimal"])  # warm the page cache for the imports
    time_to_first_frame(["dashboard", str(config)])
    value, baseline = median_of_pair(
        runs, lambda: time_to_first_frame(["dashboard", str(config)]),
        lambda: time_to_first_frame(["minimal"]))
    return Result("startup", value, baseline, 1.3, "s", "le",
                  note=f"median of {runs} each, in turns; log {config.parent.name}")


def version(runs: int) -> Result:
    from bench.common import best_of_pair, time_command

    value, bare = best_of_pair(
        runs, lambda: time_command([sys.executable, "-m", "tui", "--version"]),
        lambda: time_command([sys.executable, "-c", "pass"]))
    return Result("version", value, bare, 1.5, "s", "le",
                  note=f"best of {runs} each, in turns; baseline python -c pass")


def history_screen(config: Path, runs: int) -> Result:
    """From process start to the history screen showing its runs, the history cache warm
    (the dashboard reads the history once it is painted), vs the dashboard's first frame on
    the same log. Target ≤ 1.5×."""
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as cache:
        env = {**os.environ, "XDG_CACHE_HOME": cache}
        time_to_first_frame(["history", str(config)], env)  # fills the history cache
        value, baseline = median_of_pair(
            runs, lambda: time_to_first_frame(["history", str(config)], env),
            lambda: time_to_first_frame(["dashboard", str(config)], env))
    return Result("history-screen", value, baseline, 1.5, "s", "le",
                  note=f"median of {runs} each, in turns; runs listed, cache warm; "
                       f"log {config.parent.name}")


def config_for(log: Path) -> Path:
    """A job whose log is `log` (the big legacy log), for the dashboard to open."""
    base = log.parent
    src = base / "startup-src"
    src.mkdir(exist_ok=True)
    (src / "file.txt").write_text("x")
    config = base / "startup.toml"
    config.write_text(f"""
[jobs.bench]
source = "{src}"
destination = "{base / 'startup-dst'}"
log_file = "{log}"
lock_file = "{base / 'startup.lock'}"
metrics_file = "{base / 'startup.prom'}"
summary_file = "{base / 'startup.json'}"
require_mount = false
""")
    return config
