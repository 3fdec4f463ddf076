"""The command line imports each command's modules when that command runs (issue 21: the
start-up figures of bench/b_startup.py). What `-X importtime` lists is deterministic, unlike
a time: these gates hold in CI; the seconds stay in `make bench`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def imported(*argv: str, cache: Path | None = None) -> set[str]:
    env = dict(os.environ)
    if cache is not None:
        env["XDG_CACHE_HOME"] = str(cache)
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "tui", *argv], cwd=REPO,
                         capture_output=True, text=True, timeout=60, env=env)
    names = {line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines()
             if line.startswith("import time:")}
    assert "tui.cli" in names, out.stderr[-2000:]
    return names


def test_version_loads_argparse_and_nothing_of_the_commands() -> None:
    names = imported("--version")
    ours = {n for n in names if n == "tui" or n.startswith("tui.")}
    assert ours == {"tui", "tui.cli", "tui.core", "tui.core.exitcodes"}, sorted(ours)
    # The costliest of the standard library at start-up: dataclasses (with inspect and
    # ast), typing, tomllib and the hash functions come with the commands that use them.
    assert not names & {"dataclasses", "typing", "tomllib", "hashlib", "json"}, \
        sorted(names & {"dataclasses", "typing", "tomllib", "hashlib", "json"})


def test_help_builds_no_command_it_does_not_show(tmp_path: Path) -> None:
    names = imported("--help")
    assert "tui.config" not in names


def test_history_without_filters_loads_no_filter_module(tmp_path: Path) -> None:
    log = tmp_path / "space-mirror.log"
    log.write_text("")
    argv = ("--source", str(tmp_path), "--dest", str(tmp_path / "d"), "--log", str(log),
            "history", "--json")
    imported(*argv, cache=tmp_path / "cache")  # makes the cache folder (with tempfile)
    names = imported(*argv, cache=tmp_path / "cache")
    assert "tui.config" in names  # the command ran
    assert "tui.core.runfilter" not in names
    assert "tempfile" not in names  # the cache folder is there: nothing to make
