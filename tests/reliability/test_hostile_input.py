"""Fault 6 (follower and history side): hostile bytes in the log. Invalid UTF-8, control and
ESC characters, markup-like names, a 2 MB line, a flood of 100k lines a second, a missing
log, a log that is a directory, a log we may not read. No crash, no raw ESC in what we
print, bounded memory. The dashboard side is in tests/app/test_hostile_screen.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import pytest

from tests.reliability.conftest import clean_env
from tui.core.follow import MAX_LINE, LogFollower
from tui.core.logline import LineParser, LogRecord, decode
from tui.core.markers import MarkerKind, format_end, format_start, now
from tui.core.runstate import Outcome, RunState, apply_all

ESC = "\x1b"
HOSTILE_NAMES = [
    "close[/bold]tag.txt",
    "[link=http://evil]click[/link].txt",
    f"{ESC}]0;pwned{ESC}\\title.txt",
    f"{ESC}[2J{ESC}[Hclear.txt",
    "bell\x07and\x08backspace.txt",
]


def _hostile_log() -> bytes:
    lines: list[bytes] = [format_start("r1", "j", "sync", 1, now()).encode()]
    for name in HOSTILE_NAMES:
        rec = {"time": "2026-11-25T03:00:01Z", "level": "info", "msg": "Copied (new)",
               "object": name, "size": 1}
        lines.append(json.dumps(rec).encode())
    lines.append(b'{"time":"2026-11-25T03:00:02Z","level":"error","msg":"Failed to copy: '
                 b'permission denied","object":"bad\xff\xfename.bin"}')
    lines.append(b"2026/11/25 03:00:03 ERROR : caf\xe9-latin1.txt: Failed to copy: i/o timeout")
    lines.append(b"\x00\x01\x02binary\x00junk\xff" * 50)
    lines.append(b"x" * (2 * 1024 * 1024))  # a 2 MB line
    counters = {"bytes": "5", "transfers": "5", "checks": "0", "deletes": "0", "renames": "0",
                "errors": "2", "elapsed": "1.0"}
    lines.append(format_end(MarkerKind.FAILED, "r1", 1, now(), counters, "two errors").encode())
    lines.append(b'{"time":"2026-11-25T03:00:04Z","level":"info","msg":"trunc')  # no newline
    return b"\n".join(lines)


def test_follower_and_reducer_survive_hostile_bytes(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_bytes(_hostile_log())
    follower = LogFollower(log)
    parser = LineParser()
    state = RunState()
    batch = follower.poll()
    follower.close()
    events = [e for raw in batch.lines for e in parser.feed(decode(raw))]
    state = apply_all(state, events)
    assert state.outcome is Outcome.FAILED and state.exit_code == 1
    assert state.copied == len(HOSTILE_NAMES)
    names = [e.object for e in events if isinstance(e, LogRecord) and e.msg == "Copied (new)"]
    assert names == HOSTILE_NAMES  # kept exactly: display code escapes, the model does not
    assert all(len(raw) <= MAX_LINE for raw in batch.lines)  # the 2 MB line was cut
    assert "bad\ufffd\ufffdname.bin" in state.recent_errors[0]  # invalid UTF-8 replaced


def test_history_survives_hostile_log_and_prints_no_escape(tmp_path: Path) -> None:
    log = tmp_path / "space-mirror.log"
    log.write_bytes(_hostile_log())
    env = {**clean_env(), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    base = [sys.executable, "-m", "tui", "history", "--log", str(log)]
    as_json = subprocess.run([*base, "--json"], capture_output=True, env=env, timeout=60)
    table = subprocess.run(base, capture_output=True, env=env, timeout=60)
    for res in (as_json, table):
        assert res.returncode == 0, res.stderr
        assert b"Traceback" not in res.stderr
        assert ESC.encode() not in res.stdout + res.stderr
    doc = json.loads(as_json.stdout)
    assert [r["outcome"] for r in doc["runs"]] == ["failed"]
    assert doc["runs"][0]["exit_code"] == 1
    assert doc["warnings"]  # the junk is reported, not hidden


def test_flood_of_100k_lines_per_second_counted_once(tmp_path: Path) -> None:
    log = tmp_path / "flood.log"
    log.write_bytes(b"")
    total, per_tick = 200_000, 5_000
    line = (b'{"time":"2026-11-25T03:00:01Z","level":"info","msg":"Copied (new)",'
            b'"object":"d/f%07d.txt","size":1}\n')

    def writer() -> None:
        with open(log, "ab", buffering=0) as fh:
            for tick in range(total // per_tick):
                fh.write(b"".join(line % (tick * per_tick + i) for i in range(per_tick)))
                time.sleep(0.05)  # 5k lines every 50 ms: 100k lines a second

    follower = LogFollower(log, max_batch_lines=5000)
    parser = LineParser()
    state = RunState()
    thread = threading.Thread(target=writer)
    tracemalloc.start()
    thread.start()
    deadline = time.monotonic() + 60
    while state.copied < total and time.monotonic() < deadline:
        batch = follower.poll()
        state = apply_all(state, [e for raw in batch.lines for e in parser.feed(decode(raw))])
        if not batch.lines:
            time.sleep(0.01)  # poll cadence of the follower, not synchronisation
    thread.join()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    follower.close()
    assert state.copied == total  # every line once, none twice
    assert peak < 64 * 1024 * 1024  # bounded: one batch at a time, not the whole flood


# Root reads anything: drop the capabilities that bypass file permissions, for real.
NO_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


@pytest.mark.parametrize("case", ["missing", "directory", "unreadable"])
def test_bad_log_paths_give_a_clear_notice(tmp_path: Path, case: str) -> None:
    log = tmp_path / "space-mirror.log"
    if case == "directory":
        log.mkdir()
    elif case == "unreadable":
        log.write_text("[Tue Nov 25 03:00:01 UTC 2026] Starting Space Mirror...\n")
        os.chmod(log, 0)
    env = {**clean_env(), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    prefix = NO_DAC if case == "unreadable" else []
    history = subprocess.run([*prefix, sys.executable, "-m", "tui", "history", "--log",
                              str(log)], capture_output=True, text=True, env=env, timeout=60)
    text = history.stdout + history.stderr
    assert "Traceback" not in text
    assert str(log) in text  # the warning names the file
    probe = ("from pathlib import Path; from tui.core.follow import LogFollower; "
             f"b = LogFollower(Path({str(log)!r})).poll(); print(b.notice); print(len(b.lines))")
    follow = subprocess.run([*prefix, sys.executable, "-c", probe], capture_output=True,
                            text=True, env=env, timeout=60)
    notice, count = follow.stdout.splitlines()
    assert follow.returncode == 0 and count == "0"
    expected = {"missing": "waiting for the log file", "directory": "is a directory",
                "unreadable": "no permission to read"}[case]
    assert expected in notice
