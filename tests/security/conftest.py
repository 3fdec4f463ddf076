"""Fixtures for the security suite: a local attacker (`nobody`), folders the attacker can
reach, and jobs whose files live there.

The attacker acts through `runuser -u nobody` with the system's own tools (ln, flock, sh)
and the system Python (/usr/bin/python3; the venv's interpreter lives under /root, which
nobody cannot enter). The runner and the dashboard's code act as root, as in production.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sm_testkit import REPO, write_toml

NOBODY = "nobody"
SYSTEM_PYTHON = "/usr/bin/python3"


def as_nobody(*argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["runuser", "-u", NOBODY, "--", *argv], capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def nobody_popen(*argv: str) -> subprocess.Popen[str]:
    """In a session of its own: `stop_group` ends it with every child it left."""
    return subprocess.Popen(["runuser", "-u", NOBODY, "--", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL,
                            start_new_session=True)


def stop_group(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, 9)
    except ProcessLookupError:
        pass
    proc.communicate(timeout=10)


def protected_symlinks() -> int:
    try:
        return int(Path("/proc/sys/fs/protected_symlinks").read_text().strip())
    except (OSError, ValueError):
        return -1


def need_unprotected_symlinks() -> None:
    """fs.protected_symlinks is not per namespace: it cannot be set for one test only.
    With it on, the kernel itself stops a symlink planted in a sticky folder, and a test
    of our own defence proves nothing; say so rather than pass silently."""
    value = protected_symlinks()
    if value != 0:
        reason = (f"fs.protected_symlinks={value} on this host (a global sysctl, not settable "
                  "in a test's namespace): the kernel blocks this attack by itself")
        print(reason, file=sys.stderr)
        pytest.skip(reason)


@pytest.fixture(scope="session", autouse=True)
def _nobody_exists() -> None:
    if os.geteuid() != 0:
        pytest.fail("the security suite runs as root: it plays the root runner and `nobody`")
    if subprocess.run(["id", NOBODY], capture_output=True).returncode != 0:
        pytest.fail("user `nobody` is missing: the security suite needs a local attacker")


@pytest.fixture
def reachable() -> Iterator[Path]:
    """A root-owned 0755 folder under /tmp: `nobody` can reach what is in it (pytest's
    tmp_path sits in a 0700 folder), and can write only where a test opens a folder."""
    base = Path(tempfile.mkdtemp(prefix="sm-sec-", dir="/tmp"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


@dataclass
class SecJob:
    name: str
    base: Path
    config: Path
    source: Path
    dest: Path
    keys: dict[str, Any]

    @property
    def log(self) -> Path:
        return Path(self.keys["log_file"])


@pytest.fixture
def sec_job(reachable: Path) -> Callable[..., SecJob]:
    """sec_job(name="t", **keys): a one-job config under `reachable`/name (0755, root's),
    with its log, lock, metrics and summary beside it unless `keys` move them. A key set to
    None is left out (so the default applies)."""

    def make(name: str = "t", **keys: Any) -> SecJob:
        base = reachable / name
        base.mkdir(mode=0o755)
        src, dst = base / "src", base / "dst"
        src.mkdir()
        table: dict[str, Any] = {
            "source": str(src), "destination": str(dst), "flags": ["--transfers", "4"],
            "log_file": str(base / "mirror.log"), "lock_file": str(base / "mirror.lock"),
            "metrics_file": str(base / "metrics.prom"),
            "summary_file": str(base / "summary.json"), "require_mount": False,
        }
        table.update(keys)
        table = {k: v for k, v in table.items() if v is not None}
        config = write_toml(base / "config.toml", {name: table})
        return SecJob(name, base, config, src, dst, table)

    return make


@pytest.fixture
def open_folder(reachable: Path) -> Callable[[str, int], Path]:
    """open_folder(name, mode): a root-owned folder others can write to (0777, or 1777 like
    /tmp and /run/lock)."""

    def make(name: str, mode: int = 0o777) -> Path:
        folder = reachable / name
        folder.mkdir()
        folder.chmod(mode)
        return folder

    return make


def root_secret(folder: Path, name: str = "root-only.conf") -> Path:
    """A root file an attacker would like to clobber or read."""
    p = folder / name
    p.write_text("root's precious content\n")
    p.chmod(0o600)
    return p


def python_cli() -> list[str]:
    return [sys.executable, "-m", "tui"]


def popen_cli(*argv: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([*python_cli(), *argv], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
                            cwd=str(REPO), start_new_session=True)


# Holds an exclusive flock on LOCK (creating it) with a forged record naming PID, as nobody.
FORGER = r"""
import fcntl, json, os, sys, time
path, pid = sys.argv[1], int(sys.argv[2])
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
started = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
os.write(fd, json.dumps({"pid": pid, "rclone_pid": pid, "run_id": "20261125T030001-beef",
                         "job": "t", "mode": "sync", "log": "/dev/null",
                         "started": started}).encode())
print("holding", flush=True)
time.sleep(600)
"""


@pytest.fixture
def root_victim() -> Iterator[subprocess.Popen[bytes]]:
    """Any root process: what a forged lock record points the abort at."""
    proc = subprocess.Popen(["sleep", "600"])
    yield proc
    proc.kill()
    proc.wait()


@pytest.fixture
def forged_lock(sec_job, open_folder, root_victim) -> Iterator[SecJob]:
    """Job `t` whose lock (in a 0777 folder) nobody holds, with a record naming
    `root_victim` as the runner and its rclone."""
    lock_path = open_folder("lockdir", 0o777) / "space-mirror-t.lock"
    job = sec_job(lock_file=str(lock_path))
    forger = nobody_popen(SYSTEM_PYTHON, "-c", FORGER, str(lock_path), str(root_victim.pid))
    try:
        assert forger.stdout is not None
        assert forger.stdout.readline().strip() == "holding"
        yield job
    finally:
        stop_group(forger)
