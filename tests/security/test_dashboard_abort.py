"""Issue 11, row 2 on the screen: the root dashboard, a lock forged by `nobody` that names a
root process, and the operator pressing `a` then `y`. Nothing is signalled, and the
dashboard says why."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator

import pytest

from tui.app.app import MirrorApp
from tui.app.screens.dialogs import AbortScreen
from tui.config import load_job

from .conftest import SYSTEM_PYTHON, nobody_popen, stop_group
from .test_lock_attacks import FORGER


@pytest.fixture
def victim() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(["sleep", "600"])
    yield proc
    proc.kill()
    proc.wait()


async def test_row2_dashboard_abort_refuses_a_forged_lock(sec_job, open_folder, victim) -> None:
    shared = open_folder("lockdir", 0o777)
    lock_path = shared / "space-mirror-t.lock"
    files = sec_job(lock_file=str(lock_path))
    forger = nobody_popen(SYSTEM_PYTHON, "-c", FORGER, str(lock_path), str(victim.pid))
    try:
        assert forger.stdout is not None
        assert forger.stdout.readline().strip() == "holding"
        job = load_job(files.config, "t")
        app = MirrorApp(job, ["--config", str(files.config), "--job", "t"],
                        hostname="testhost")
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            deadline = time.monotonic() + 20
            while app.running is None and time.monotonic() < deadline:
                await pilot.pause(0.05)
            await pilot.press("a")
            if isinstance(app.screen, AbortScreen):
                await pilot.press("y")
            while victim.poll() is None and time.monotonic() < deadline and not any(
                    "not signalling" in str(n.message) for n in app._notifications):
                await asyncio.sleep(0.05)
            said = [str(n.message) for n in app._notifications]
        assert victim.poll() is None, "the dashboard killed a root process named by nobody"
        assert any("not signalling" in m and "uid 65534" in m for m in said), said
    finally:
        stop_group(forger)
