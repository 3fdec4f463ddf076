"""The command line imports each command's modules when that command runs (issue 21: the
start-up figures of bench/b_startup.py). What `-X importtime` lists is deterministic, unlike
a time: these gates hold in CI; the seconds stay in `make bench`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def imported(*argv: str, cache: Path | None = None, cli: bool = True) -> set[str]:
    env = dict(os.environ)
    if cache is not None:
        env["XDG_CACHE_HOME"] = str(cache)
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "tui", *argv], cwd=REPO,
                         capture_output=True, text=True, timeout=60, env=env)
    names = {line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines()
             if line.startswith("import time:")}
    assert out.returncode == 0, out.stderr[-2000:]
    assert ("tui.cli" in names) == cli, out.stderr[-2000:]
    return names


def test_version_loads_argparse_and_nothing_of_the_commands() -> None:
    names = imported("--version")
    ours = {n for n in names if n == "tui" or n.startswith("tui.")}
    assert ours == {"tui", "tui.entry", "tui.cli", "tui.core", "tui.core.exitcodes"}, \
        sorted(ours)
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
    (tmp_path / "cache" / "space-mirror").mkdir(parents=True, mode=0o700)
    names = imported(*argv, cache=tmp_path / "cache")
    assert "tui.config" in names  # the command ran
    assert "tui.core.runfilter" not in names
    assert "tempfile" not in names  # the cache folder is there: nothing to make


# What a repeated `history` must not load: the command line's parser, the config, the
# history model, and the costliest of the standard library (issue 21: an unchanged log
# answered at the cost of `--version`, from tui/answer_memo.py).
NOT_FOR_A_KEPT_ANSWER = {"argparse", "tui.cli", "tui.config", "tui.core.history.persistent",
                         "tui.core.history.model", "dataclasses", "typing", "json", "hashlib",
                         "tomllib", "datetime"}


def test_a_repeated_history_is_answered_before_the_parser_loads(tmp_path: Path) -> None:
    log = tmp_path / "space-mirror.log"
    shutil.copyfile(REPO / "tests/fixtures/shapes/runner-text/space-mirror.log", log)
    argv = ("--source", str(tmp_path), "--dest", str(tmp_path / "d"), "--log", str(log),
            "history", "--json")
    first = imported(*argv, cache=tmp_path / "cache")
    assert "tui.core.history.persistent" in first  # read, then kept
    again = imported(*argv, cache=tmp_path / "cache", cli=False)
    assert not again & NOT_FOR_A_KEPT_ANSWER, sorted(again & NOT_FOR_A_KEPT_ANSWER)
    with log.open("a") as fh:  # the log grew: read again, in full
        fh.write("[2026-12-08T03:00:00+00:00] Space Mirror Complete. run=late exit=0\n")
    assert "tui.core.history.persistent" in imported(*argv, cache=tmp_path / "cache")


# What growing a kept answer by one night must not load (tui/history_extend.py): the parser,
# the config, the caches of the full read, and what only a rare run needs.
NOT_FOR_ONE_MORE_NIGHT = {"argparse", "tui.cli", "tui.config", "tui.history_cli",
                          "tui.core.history.cache", "tui.core.history.assemble",
                          "tui.core.history.split", "tui.core.verify", "typing", "hashlib",
                          "tomllib", "psutil", "textual"}


def test_one_more_night_is_scanned_without_the_full_read(tmp_path: Path) -> None:
    log = tmp_path / "space-mirror.log"
    whole = (REPO / "tests/fixtures/shapes/runner-text/space-mirror.log").read_bytes()
    cut = whole.rfind(b"\n", 0, whole.rfind(b"Starting Space Mirror")) + 1
    log.write_bytes(whole[:cut])
    argv = ("--source", str(tmp_path), "--dest", str(tmp_path / "d"), "--log", str(log),
            "history", "--json")
    imported(*argv, cache=tmp_path / "cache")
    with log.open("ab") as fh:
        fh.write(whole[cut:])
    grown = imported(*argv, cache=tmp_path / "cache", cli=False)
    assert "tui.core.history.scan" in grown  # the night was scanned
    assert not grown & NOT_FOR_ONE_MORE_NIGHT, sorted(grown & NOT_FOR_ONE_MORE_NIGHT)
