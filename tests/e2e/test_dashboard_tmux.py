"""The installed `space-mirror` command in a real terminal (tmux, 80x24): keys in, screen out."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

COMMAND = Path(sys.executable).parent / "space-mirror"


class Tmux:
    def __init__(self, socket: str) -> None:
        self.socket = socket

    def __call__(self, *args: str) -> str:
        out = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True,
                             timeout=10)
        return out.stdout

    def start(self, *argv: str, size: tuple[int, int] = (80, 24)) -> None:
        """Session "dash" running argv, seen to start: a server still exiting after its last
        session ended refuses a new one ("server exited unexpectedly"), and a test that did
        not check would wait on an empty screen."""
        deadline = time.monotonic() + 10
        while subprocess.run(
                ["tmux", "-L", self.socket, "new-session", "-d", "-x", str(size[0]), "-y",
                 str(size[1]), "-s", "dash", "env", "TERM=xterm-256color",
                 f"PATH={os.environ.get('PATH', '')}", *argv],
                capture_output=True, timeout=10).returncode != 0:
            assert time.monotonic() < deadline, f"tmux never started {argv}"
            time.sleep(0.1)

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "dash")

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; the screen was:\n{screen}")

    def alive(self) -> bool:
        return subprocess.run(["tmux", "-L", self.socket, "has-session", "-t", "dash"],
                              capture_output=True, timeout=10).returncode == 0


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    assert shutil.which("tmux"), "tmux is required for the e2e test"
    # A server of its own per test: the last test's server may still be shutting down.
    t = Tmux(f"space-mirror-e2e-{os.getpid()}-{tmp_path.name}")
    yield t
    subprocess.run(["tmux", "-L", t.socket, "kill-server"], capture_output=True, timeout=10)


def test_dashboard_in_tmux(tmp_path: Path, tmux: Tmux) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for i in range(5):
        (src / f"f{i}.txt").write_text(f"file {i}\n" * 100)
    config = tmp_path / "job.toml"
    config.write_text(f"""[jobs.t]
source = "{src}"
destination = "{tmp_path / 'dst'}"
log_file = "{tmp_path / 'log'}"
lock_file = "{tmp_path / 'lock'}"
metrics_file = "{tmp_path / 'm.prom'}"
summary_file = "{tmp_path / 's.json'}"
require_mount = false
flags = []
env = {{}}
""")
    command = f"{COMMAND} --config {config} --job t"
    tmux.start(*command.split())
    tmux.wait_for("IDLE · NO RUN IN THE LOG")
    screen = tmux.wait_for("s Start")  # the footer's keys: what can be done while idle
    assert "f Files" in screen and "a Abort" not in screen
    tmux("send-keys", "-t", "dash", "d")
    screen = tmux.wait_for("LAST RUN SUCCEEDED (dry run)")
    assert "files 0/5" in screen or "Skipped copy" in screen
    assert not (tmp_path / "dst").exists()
    tmux("send-keys", "-t", "dash", "?")
    screen = tmux.wait_for("Keys")
    assert "abort the running sync" in screen
    tmux("send-keys", "-t", "dash", "Escape")
    tmux.wait_for("s Start")
    tmux("send-keys", "-t", "dash", "q")
    deadline = time.monotonic() + 10
    while tmux.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not tmux.alive(), "q did not quit the dashboard"
