"""Fixtures for the reliability suite: a loopback sftp server run by the real rclone, jobs
that mirror to it, and helpers to run the CLI and wait on conditions with a deadline."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sm_testkit import free_port, port_open, wait_until, write_toml

from tui.ops.rclonecmd import resolve_rclone

RCLONE = str(resolve_rclone(None))
CANARY_USER = "canary-user-5c1e"
CANARY_PASS = "CANARY-PASS-d41f9"


def wait_for(predicate: Callable[[], object], timeout: float = 20.0, interval: float = 0.02,
             what: str = "condition") -> object:
    """sm_testkit's poll-with-deadline, with this suite's finer default interval."""
    return wait_until(predicate, timeout, what, interval)


@dataclass
class SftpServer:
    root: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [RCLONE, "serve", "sftp", str(self.root), "--addr", f"127.0.0.1:{self.port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            # Credentials through the environment, like our runner: argv is world-readable.
            env={**os.environ, "RCLONE_CONFIG": "/dev/null", "RCLONE_USER": CANARY_USER,
                 "RCLONE_PASS": CANARY_PASS},
        )
        wait_for(lambda: port_open(self.port), 20, what="rclone serve sftp to listen")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None


@pytest.fixture
def sftp_server(tmp_path: Path) -> Iterator[SftpServer]:
    server = SftpServer(tmp_path / "server", free_port())
    server.start()
    yield server
    server.stop()


def obscure(value: str) -> str:
    # Through stdin (`obscure -`): in argv the canary would be in /proc for any process
    # scan to find, including test_canaries_never_leak's own.
    out = subprocess.run([RCLONE, "obscure", "-"], input=value, capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


@dataclass
class Job:
    """A job mirroring `src` to a folder on the loopback sftp server."""

    base: Path
    src: Path
    config: Path
    env_file: Path
    log: Path
    lock: Path
    server: SftpServer
    dest_dir: str = "mirror"

    @property
    def dest_path(self) -> Path:
        return self.server.root / self.dest_dir

    def cli(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "tui", "--config", str(self.config), "--job", "rel", *args]

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.cli("run", "--offline", *args), capture_output=True,
                              text=True, timeout=timeout, env=clean_env())

    def spawn(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(self.cli("run", "--offline", *args), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=clean_env(),
                                start_new_session=True)

    def rclone_env(self) -> dict[str, str]:
        from dotenv import dotenv_values

        values = {k: v for k, v in dotenv_values(self.env_file).items() if v is not None}
        return {**os.environ, **values, "RCLONE_CONFIG": "/dev/null"}

    def check(self) -> subprocess.CompletedProcess[str]:
        """`rclone check SOURCE DEST`: exit 0 means 0 differences."""
        return subprocess.run([RCLONE, "check", str(self.src), f":sftp:{self.dest_dir}"],
                              capture_output=True, text=True, env=self.rclone_env(), timeout=120)

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""


def clean_env() -> dict[str, str]:
    """Our environment, minus anything that could point the CLI at a real config."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SPACE_MIRROR_", "RCLONE_", "B2_", "NOTIFY_SOCKET"))}
    env["RCLONE_CONFIG"] = "/dev/null"
    return env


def write_job(base: Path, src: Path, server: SftpServer, flags: list[str],
              abort_grace: float = 10) -> Job:
    base.mkdir(parents=True, exist_ok=True)
    env_file = base / "creds.env"
    env_file.write_text(
        f"RCLONE_SFTP_HOST=127.0.0.1\nRCLONE_SFTP_PORT={server.port}\n"
        f"RCLONE_SFTP_USER={CANARY_USER}\nRCLONE_SFTP_PASS={obscure(CANARY_PASS)}\n"
    )
    env_file.chmod(0o600)
    log, lock = base / "mirror.log", base / "mirror.lock"
    config = write_toml(base / "config.toml", {"rel": {
        "source": src, "destination": ":sftp:mirror", "flags": flags, "env_file": env_file,
        "log_file": log, "lock_file": lock, "metrics_file": base / "metrics.prom",
        "summary_file": base / "summary.json", "require_mount": False,
        "abort_grace": abort_grace}})
    return Job(base, src, config, env_file, log, lock, server)


def make_tree(root: Path, files: int, size: int, seed: int = 1) -> None:
    """Deterministic content, so that a re-made tree has the same hashes."""
    root.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        d = root / f"dir{i % 10}"
        d.mkdir(exist_ok=True)
        block = hashlib.sha256(f"{seed}-{i}".encode()).digest()
        (d / f"file{i:05d}.bin").write_bytes((block * (size // len(block) + 1))[:size])


def partial_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".partial")]


def rclone_processes(dest_fragment: str) -> list[int]:
    import psutil

    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmd = proc.info.get("cmdline") or []
        if cmd and os.path.basename(cmd[0]) == "rclone" and "sync" in cmd and any(
                dest_fragment in c for c in cmd):
            found.append(proc.pid)
    return found


def kill_quietly(pid: int, sig: int = signal.SIGKILL) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
