"""Fixtures for the B2 suite: one loopback B2 shim per session, emptied before each test.

    b2          the B2Shim (tests.b2.shim), reset: an empty bucket, no injections
    b2_env      env file for a job: the seed's names (B2_APPLICATION_KEY_ID/_KEY, canaries)
                and RCLONE_B2_ENDPOINT pointing at the shim
    b2_rclone   b2_rclone(*args) → CompletedProcess: real rclone with the shim's credentials
                in its environment only (small chunks, short timeouts)
    b2_job      b2_job(**keys) → JobFiles for a job whose destination is :b2:BUCKET, with
                the seed's flags and hard delete on
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sm_testkit import CANARY_KEY_ID, CANARY_SECRET, JobFiles, wait_until

from tests.b2.shim import BUCKET, B2Shim

# Small parts so a "large" file is a few MiB: rclone's minimum chunk is 5 MiB and its
# upload cutoff may not be below the chunk size.
SMALL_CHUNKS = ("--b2-chunk-size", "5M", "--b2-upload-cutoff", "5M")
SEED_FLAGS = ("--fast-list", "--transfers", "16", "--track-renames")
LARGE = 11 * 1024 * 1024  # three parts of 5 MiB at most


@pytest.fixture(scope="session")
def b2_session() -> Iterator[B2Shim]:
    shim = B2Shim(CANARY_KEY_ID, CANARY_SECRET)
    try:
        yield shim
    finally:
        shim.close()


@pytest.fixture
def b2(b2_session: B2Shim) -> Iterator[B2Shim]:
    b2_session.reset()
    yield b2_session
    errors = list(b2_session.state.errors)
    b2_session.reset()  # also releases a stall, so no rclone hangs past its test
    assert not errors, "the shim itself failed:\n" + "\n".join(errors)


def b2_env_lines(shim: B2Shim) -> str:
    return (f"B2_APPLICATION_KEY_ID={CANARY_KEY_ID}\n"
            f"B2_APPLICATION_KEY={CANARY_SECRET}\n"
            f"RCLONE_B2_ENDPOINT={shim.url}\n")


@pytest.fixture
def b2_env(tmp_path: Path, b2: B2Shim) -> Path:
    path = tmp_path / "storage-credentials.env"
    path.write_text(b2_env_lines(b2))
    path.chmod(0o600)
    return path


@pytest.fixture
def b2_rclone(rclone_bin: Path, cli_env: dict[str, str],
              b2: B2Shim) -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(*args: str, timeout: float = 60,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        full = {**cli_env, "RCLONE_B2_ACCOUNT": CANARY_KEY_ID, "RCLONE_B2_KEY": CANARY_SECRET,
                "RCLONE_B2_ENDPOINT": b2.url, "RCLONE_B2_CHUNK_SIZE": "5M",
                "RCLONE_B2_UPLOAD_CUTOFF": "5M", "RCLONE_LOW_LEVEL_RETRIES": "3",
                "RCLONE_RETRIES": "1", "RCLONE_CONTIMEOUT": "5s", "RCLONE_TIMEOUT": "10s",
                **(env or {})}
        return subprocess.run([str(rclone_bin), *args], env=full, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    return run


@pytest.fixture
def b2_job(job_config: Callable[..., JobFiles], b2_env: Path) -> Callable[..., JobFiles]:
    def make(name: str = "b2job", **keys: Any) -> JobFiles:
        table: dict[str, Any] = {
            "destination": f":b2:{BUCKET}",
            "flags": [*SEED_FLAGS, *SMALL_CHUNKS, "--retries", "1",
                      "--low-level-retries", "3", "--contimeout", "5s", "--timeout", "10s"],
            "env_file": str(b2_env),
            "remote_timeout": 10,
        }
        table.update(keys)
        return job_config(name, **table)

    return make


def killed_large_upload(b2: B2Shim, rclone_bin: Path, cli_env: dict[str, str],
                        src: Path) -> int:
    """A real rclone upload of the large files in `src`, SIGKILLed once its first part is
    stored at B2 (the parts after it hang): B2 is left with an unfinished large file.
    Returns the bytes its stored parts hold."""
    before = b2.calls().count("b2_upload_part")
    b2.delay("b2_upload_part", 30, after=1)
    env = {**cli_env, "RCLONE_B2_ACCOUNT": b2.key_id, "RCLONE_B2_KEY": b2.key,
           "RCLONE_B2_ENDPOINT": b2.url, "RCLONE_B2_CHUNK_SIZE": "5M",
           "RCLONE_B2_UPLOAD_CUTOFF": "5M", "RCLONE_B2_UPLOAD_CONCURRENCY": "1"}
    proc = subprocess.Popen([str(rclone_bin), "copy", str(src), f":b2:{BUCKET}"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stored() -> int:
        return sum(v["size"] for v in b2.dump() if v["action"] == "start")

    try:
        wait_until(lambda: stored() > 0 and b2.calls().count("b2_upload_part") >= before + 2,
                   30, "the first part stored and the second one started")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    b2.delay("b2_upload_part", 0)
    return stored()
