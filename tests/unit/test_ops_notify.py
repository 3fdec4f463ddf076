"""Hooks (SPACE_MIRROR_* facts, no credentials, failures reported) and sd_notify."""

from __future__ import annotations

import asyncio
import shutil
import socket
import tempfile
import time
from pathlib import Path

import psutil

from tui.ops.monitor import hooks as notify

FACTS = {"SPACE_MIRROR_OUTCOME": "success", "SPACE_MIRROR_EXIT_CODE": "0"}


async def test_hook_gets_facts_and_no_credentials(tmp_path: Path) -> None:
    out = tmp_path / "env"
    base = {"PATH": "/usr/bin:/bin", "RCLONE_B2_KEY": "s3cret", "B2_APPLICATION_KEY": "s3cret",
            "AWS_SECRET_ACCESS_KEY": "s3cret", "RCLONE_S3_PROVIDER": "Rclone", "LANG": "C"}
    result = await notify.run_hook(f"env > {out}; echo done", FACTS, base, 10)
    assert result.exit_code == 0 and result.problem is None and "done" in result.output
    env = dict(ln.split("=", 1) for ln in out.read_text().splitlines() if "=" in ln)
    assert env["SPACE_MIRROR_OUTCOME"] == "success" and env["SPACE_MIRROR_EXIT_CODE"] == "0"
    assert "s3cret" not in out.read_text()
    assert env["RCLONE_S3_PROVIDER"] == "Rclone" and env["LANG"] == "C"


async def test_failing_hook() -> None:
    result = await notify.run_hook("echo oops; exit 4", FACTS, {"PATH": "/bin"}, 10)
    assert result.exit_code == 4 and result.problem == "hook exited with code 4"
    assert "oops" in result.output


async def test_hook_timeout_kills_the_whole_group(tmp_path: Path) -> None:
    """How soon run_hook returns is measured by `make bench` (hook-timeout). Here: it
    returns long before the hook would have ended (a generous deadline, not a timing
    figure), says so, and leaves no process of the hook behind."""
    marker = tmp_path / "late"
    result = await asyncio.wait_for(
        notify.run_hook(f"(sleep 60; touch {marker}) & sleep 60", FACTS,
                        {"PATH": "/usr/bin:/bin"}, 0.3), 30)
    assert result.exit_code is None and result.problem is not None
    assert "timed out" in result.problem

    def leftovers() -> list[psutil.Process]:
        found = []
        for p in psutil.process_iter(["cmdline", "status"]):
            if str(marker) in " ".join(p.info["cmdline"] or []) and (
                    p.info["status"] != psutil.STATUS_ZOMBIE):
                found.append(p)
        return found

    deadline = time.monotonic() + 5
    while leftovers() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert leftovers() == []  # the background subshell died with the hook


def test_sd_notify_datagram() -> None:
    folder = tempfile.mkdtemp(prefix="smn-", dir="/tmp")
    try:
        path = f"{folder}/s"
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind(path)
            assert notify.sd_notify("STATUS=hello", {"NOTIFY_SOCKET": path})
            assert sock.recv(100) == b"STATUS=hello"
        assert not notify.sd_notify("STATUS=x", {})  # outside systemd: a no-op
        assert not notify.sd_notify("STATUS=x", {"NOTIFY_SOCKET": f"{folder}/gone"})
    finally:
        shutil.rmtree(folder)


def test_sd_notify_abstract_socket() -> None:
    name = f"space-mirror-test-{time.monotonic_ns()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        assert notify.sd_notify("STATUS=abstract", {"NOTIFY_SOCKET": "@" + name})
        assert sock.recv(100) == b"STATUS=abstract"
