"""Issue 11, row 2 on the screen: the root dashboard, a lock forged by `nobody` that names a
root process, and the operator pressing `a` then `y`. Nothing is signalled, and the
dashboard says why."""

from __future__ import annotations

import asyncio
import time

from tui.app.app import MirrorApp
from tui.app.screens.dialogs import AbortScreen
from tui.config import load_job


async def test_row2_dashboard_abort_refuses_a_forged_lock(forged_lock, root_victim) -> None:
    job = load_job(forged_lock.config, "t")
    app = MirrorApp(job, ["--config", str(forged_lock.config), "--job", "t"],
                    hostname="testhost")
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        deadline = time.monotonic() + 20
        while app.running is None and time.monotonic() < deadline:
            await pilot.pause(0.05)
        await pilot.press("a")
        if isinstance(app.screen, AbortScreen):
            await pilot.press("y")
        while root_victim.poll() is None and time.monotonic() < deadline and not any(
                "not signalling" in str(n.message) for n in app._notifications):
            await asyncio.sleep(0.05)
        said = [str(n.message) for n in app._notifications]
    assert root_victim.poll() is None, "the dashboard killed a root process named by nobody"
    assert any("not signalling" in m and "uid 65534" in m for m in said), said
