"""Issue 13: a stalled sync ends. Three real stalls, each with the real rclone:

- rclone itself stopped with SIGSTOP (local → local);
- a destination that accepts TCP and never answers (an sftp remote behind a black hole);
- the sftp server rclone talks to, stopped with SIGSTOP mid-transfer.

Each run ends within stall_timeout + abort_grace (+ the bounded partial-file count), exit 79,
with a WARNING line naming the stall and an end marker whose `reason` tells the truth about
partial files and whose `elapsed` is the wall time. The next run succeeds.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sm_testkit import rclone_children, wait_until, write_toml

from tests.reliability.conftest import (
    CANARY_PASS,
    CANARY_USER,
    SftpServer,
    clean_env,
    make_tree,
    obscure,
    partial_files,
)
from tui.core.markers import MarkerKind, parse_marker

STALL = 3.0
GRACE = 3.0
REMOTE_TIMEOUT = 2.0
# What may pass besides the stall and the grace: the partial count (REMOTE_TIMEOUT), the
# watchdog's polling, Python's start-up, and a machine shared with other test runs.
SLACK = REMOTE_TIMEOUT + 8.0

pytestmark = pytest.mark.slow


class BlackHole:
    """A TCP port on 127.0.0.1 that forwards to `upstream` while healthy, and otherwise
    accepts connections and never says a word."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.healthy = False
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self._stop = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if not self.healthy:
                self.held.append(conn)  # keep it open, read nothing, answer nothing
                continue
            up = socket.create_connection(("127.0.0.1", self.upstream))
            for a, b in ((conn, up), (up, conn)):
                threading.Thread(target=_pump, args=(a, b), daemon=True).start()

    def close(self) -> None:
        self._stop = True
        self.sock.close()
        for c in self.held:
            c.close()


def _pump(a: socket.socket, b: socket.socket) -> None:
    try:
        while data := a.recv(65536):
            b.sendall(data)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def sftp_job(base: Path, src: Path, port: int, flags: list[str]) -> Path:
    """A config mirroring src to :sftp:mirror at 127.0.0.1:port; returns the config."""
    base.mkdir(parents=True, exist_ok=True)
    env_file = base / "creds.env"
    env_file.write_text(
        f"RCLONE_SFTP_HOST=127.0.0.1\nRCLONE_SFTP_PORT={port}\n"
        f"RCLONE_SFTP_USER={CANARY_USER}\nRCLONE_SFTP_PASS={obscure(CANARY_PASS)}\n")
    env_file.chmod(0o600)
    return write_toml(base / "config.toml", {"t": {
        "source": src, "destination": ":sftp:mirror", "flags": flags, "env_file": env_file,
        **common_keys(base)}})


def common_keys(base: Path) -> dict[str, Any]:
    return {"log_file": base / "mirror.log", "lock_file": base / "mirror.lock",
            "metrics_file": base / "metrics.prom", "summary_file": base / "summary.json",
            "require_mount": False, "abort_grace": GRACE, "stall_timeout": STALL,
            "remote_timeout": REMOTE_TIMEOUT}


def spawn(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tui", "--config", str(config), "--job", "t", "run",
         "--offline"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=clean_env(), start_new_session=True)


def run(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui", "--config", str(config), "--job", "t",
                           "run", "--offline"], capture_output=True, text=True,
                          env=clean_env(), timeout=120)


def finish(runner: subprocess.Popen[str], timeout: float) -> tuple[str, str]:
    try:
        return runner.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(runner.pid, signal.SIGKILL)
        runner.communicate()
        pytest.fail(f"the runner was still going {timeout}s after the stall began")


IN_FLIGHT = b'"transferring":[{'


def log_bytes(base: Path) -> bytes:
    log = base / "mirror.log"
    return log.read_bytes() if log.exists() else b""


def end_marker(log: Path) -> Any:
    ends = [m for m in (parse_marker(ln) for ln in log.read_text("utf-8", "replace")
                        .splitlines()) if m is not None and m.kind is not MarkerKind.START]
    assert ends, "no end marker"
    return ends[-1]


def assert_stall_ending(log: Path, code: int, stderr: str, started: float) -> Any:
    assert code == 79, stderr
    text = log.read_text("utf-8", "replace")
    assert text.count("space-mirror WARNING: no progress for 3s (stall_timeout)") == 1
    end = end_marker(log)
    assert end.kind is MarkerKind.FAILED and end.exit_code == 79
    assert end.fields["reason"].startswith("no progress for 3s (stall_timeout)")
    wall = time.monotonic() - started
    elapsed = float(end.fields["elapsed"])
    # The wall time of the run, not rclone's last stats (which froze with the stall).
    assert STALL <= elapsed <= wall + 0.5, (elapsed, wall)
    return end


def test_sigstopped_rclone_is_stopped_and_the_next_run_succeeds(
        tmp_path: Path, rclone_bin: Path) -> None:
    base = tmp_path / "job"
    src = tmp_path / "src"
    make_tree(src, 4, 2 * 1024 * 1024)
    dst = tmp_path / "dst"
    keys = {"source": src, "destination": dst, **common_keys(base)}
    base.mkdir()
    config = write_toml(base / "config.toml", {"t": {
        **keys, "flags": ["--transfers", "2", "--bwlimit", "1M"]}})
    started = time.monotonic()
    runner = spawn(config)
    try:
        wait_until(lambda: IN_FLIGHT in log_bytes(base), 30, "a stats line with a file in flight",
                   0.02)
        rclone = wait_until(lambda: rclone_children(runner.pid), 10, "rclone's pid")[0]
        rclone.send_signal(signal.SIGSTOP)
        stopped = time.monotonic()
        _, err = finish(runner, STALL + GRACE + SLACK)
        assert time.monotonic() - stopped <= STALL + GRACE + SLACK
    finally:
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
    end = assert_stall_ending(base / "mirror.log", runner.returncode, err, started)
    left = len(partial_files(dst))
    # The runner woke rclone (SIGCONT) with its SIGTERM, so rclone removed its partials;
    # whatever the count, the marker says the number that is really there.
    expected = ("no partial file remains" if left == 0 else f"{left} partial file")
    assert expected in end.fields["reason"], (left, end.fields["reason"])
    assert "in flight: dir" in end.fields["reason"]  # make_tree's dirN/fileNNNNN.bin

    config = write_toml(base / "config.toml", {"t": {**keys, "flags": ["--transfers", "2"]}})
    rerun = run(config)
    assert rerun.returncode == 0, rerun.stderr
    assert sorted(p.name for p in dst.rglob("*") if p.is_file()) == \
        sorted(p.name for p in src.rglob("*") if p.is_file())


@pytest.fixture
def black_hole(sftp_server: SftpServer) -> Iterator[BlackHole]:
    hole = BlackHole(sftp_server.port)
    yield hole
    hole.close()


def test_black_hole_destination_is_stopped_and_the_next_run_succeeds(
        tmp_path: Path, sftp_server: SftpServer, black_hole: BlackHole) -> None:
    src = tmp_path / "src"
    make_tree(src, 3, 64 * 1024)
    base = tmp_path / "job"
    config = sftp_job(base, src, black_hole.port, ["--transfers", "2"])
    black_hole.healthy = True  # last night's run went fine
    assert run(config).returncode == 0
    black_hole.healthy = False
    (src / "new.bin").write_bytes(b"tonight's change" * 4096)
    started = time.monotonic()
    runner = spawn(config)
    try:
        wait_until(lambda: black_hole.held, 30, "rclone to connect to the black hole")
        _, err = finish(runner, STALL + GRACE + SLACK + 2)
    finally:
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
    end = assert_stall_ending(base / "mirror.log", runner.returncode, err, started)
    # Nothing answers there, so nobody can count: the marker says so.
    assert "partial files may remain" in end.fields["reason"]
    assert not rclone_children(runner.pid)

    black_hole.healthy = True  # the destination answers again
    rerun = run(config)
    assert rerun.returncode == 0, rerun.stderr
    assert len(list((sftp_server.root / "mirror").rglob("*.bin"))) == 4


def test_stopped_sftp_server_is_stopped_and_the_next_run_succeeds(
        tmp_path: Path, sftp_server: SftpServer) -> None:
    src = tmp_path / "src"
    make_tree(src, 4, 2 * 1024 * 1024)
    base = tmp_path / "job"
    config = sftp_job(base, src, sftp_server.port, ["--transfers", "2", "--bwlimit", "1M"])
    assert sftp_server.proc is not None
    server = sftp_server.proc
    started = time.monotonic()
    runner = spawn(config)
    try:
        wait_until(lambda: IN_FLIGHT in log_bytes(base), 30, "a stats line with a file in flight",
                   0.02)
        server.send_signal(signal.SIGSTOP)
        _, err = finish(runner, STALL + GRACE + SLACK)
    finally:
        server.send_signal(signal.SIGCONT)
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
    end = assert_stall_ending(base / "mirror.log", runner.returncode, err, started)
    # The server was still stopped when the runner looked: it could not count, and says so.
    assert "partial files may remain" in end.fields["reason"]
    assert "in flight: dir" in end.fields["reason"]

    config = sftp_job(base, src, sftp_server.port, ["--transfers", "2"])
    rerun = run(config)
    assert rerun.returncode == 0, rerun.stderr
    assert partial_files(sftp_server.root / "mirror") == []
    assert len(list((sftp_server.root / "mirror").rglob("*.bin"))) == 4
