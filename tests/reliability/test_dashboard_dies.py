"""Fault 2: the dashboard dies while a sync it started is running: its pseudo-terminal hangs
up (tmux kill-session sends SIGHUP, as a dropped SSH connection does), or it is SIGKILLed.
The sync finishes with exit 0, and a new dashboard re-attaches to it, shows its progress
while it runs and its final result when it ends. A real terminal: tmux."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.reliability.conftest import (
    Job,
    SftpServer,
    clean_env,
    make_tree,
    partial_files,
    wait_for,
    write_job,
)
from tui.core.markers import MarkerKind, parse_marker
from tui.ops import lock

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


class Terminal:
    """One tmux server of our own (never the developer's), one window per dashboard."""

    def __init__(self, name: str) -> None:
        self.socket = name

    def tmux(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True,
                              text=True, timeout=10)

    def open(self, session: str, argv: list[str]) -> None:
        env = clean_env()
        env.update({"TERM": "xterm-256color", "LANG": "C.UTF-8"})
        cmd = " ".join(_quote(a) for a in argv)
        shell = f"env -i {' '.join(f'{k}={_quote(v)}' for k, v in env.items())} {cmd}"

        def started() -> bool:
            # When the last session has just died (the SIGKILL case), the tmux server is
            # still exiting and refuses the next one ("server exited unexpectedly"): the
            # session must be seen to start, else the test waits on an empty screen.
            return self.tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30",
                             shell).returncode == 0

        wait_for(started, 10, interval=0.1, what=f"the tmux session {session}")

    def screen(self, session: str) -> str:
        return self.tmux("capture-pane", "-p", "-t", session).stdout

    def wait_for(self, session: str, *texts: str, timeout: float = 40) -> str:
        seen = ""

        def shows() -> bool:
            nonlocal seen
            seen = self.screen(session)
            return all(t in seen for t in texts)

        try:
            wait_for(shows, timeout, interval=0.1, what=f"{texts} on screen")
        except (AssertionError, pytest.fail.Exception):
            raise AssertionError(f"{texts} never appeared; the screen was:\n{seen}") from None
        return seen

    def pane_pid(self, session: str) -> int:
        return int(self.tmux("display-message", "-p", "-t", session, "#{pane_pid}").stdout)

    def kill_server(self) -> None:
        self.tmux("kill-server")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    assert shutil.which("tmux"), "tmux is required (Debian package tmux; .ci/run installs it)"
    term = Terminal(f"space-mirror-rel-{os.getpid()}")
    yield term
    term.kill_server()


def _dashboard_argv(job: Job) -> list[str]:
    return [str(Path(sys.executable).parent / "space-mirror"), "--config", str(job.config),
            "--job", "rel"]


def _end_markers(job: Job) -> list[tuple[MarkerKind, int | None]]:
    out = []
    for line in job.log_text().splitlines():
        m = parse_marker(line)
        if m is not None and m.kind is not MarkerKind.START:
            out.append((m.kind, m.exit_code))
    return out


@pytest.mark.parametrize("how", ["hangup", "sigkill"])
def test_sync_survives_its_dashboard(tmp_path: Path, sftp_server: SftpServer,
                                     terminal: Terminal, how: str) -> None:
    src = tmp_path / "src"
    # ~4.5 MiB at 400 KiB/s: ~11 s, room for a second dashboard to start and attach even on a
    # loaded machine (at 1 MiB/s the run sometimes ended first under the full suite).
    make_tree(src, 24, 192 * 1024)
    job = write_job(tmp_path / "job", src, sftp_server,
                    ["--transfers", "2", "--bwlimit", "400k"])

    terminal.open("first", _dashboard_argv(job))
    terminal.wait_for("first", "IDLE")
    terminal.tmux("send-keys", "-t", "first", "s")
    holder = wait_for(lambda: lock.read_holder(job.lock), 30, what="the dashboard's run")
    assert isinstance(holder, lock.LockRecord) and holder.started_by == "dashboard"
    terminal.wait_for("first", "RUNNING")
    wait_for(lambda: partial_files(job.dest_path), 30, interval=0.02, what="a transfer")

    dashboard_pid = terminal.pane_pid("first")
    if how == "hangup":
        terminal.tmux("kill-session", "-t", "first")  # the terminal goes away: SIGHUP
    else:
        os.kill(dashboard_pid, signal.SIGKILL)
    wait_for(lambda: not psutil.pid_exists(dashboard_pid)
             or psutil.Process(dashboard_pid).status() == psutil.STATUS_ZOMBIE, 10,
             what="the dashboard to be gone")
    # The sync is untouched: still running, in its own session.
    runner = lock.read_holder(job.lock)
    assert runner is not None and runner.run_id == holder.run_id

    # A new dashboard re-attaches and shows the run going on, then its end.
    terminal.open("second", _dashboard_argv(job))
    screen = terminal.wait_for("second", "RUNNING")
    assert "dashboard" in screen  # who started it: the first dashboard, not this one
    wait_for(lambda: _end_markers(job), 90, interval=0.2, what="the run to end")
    assert _end_markers(job) == [(MarkerKind.COMPLETE, 0)]
    terminal.wait_for("second", "LAST RUN SUCCEEDED")
    check = job.check()
    assert check.returncode == 0 and "0 differences found" in check.stderr
    assert partial_files(job.dest_path) == []
