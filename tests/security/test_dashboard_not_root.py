"""A dashboard that cannot see the job's lock says so (issue 11's root-only run folder).

The lock lives in a 0700 folder of root's. A dashboard run by a user who cannot enter it
found no lock, and so showed IDLE, even while a sync ran. The test runs the real dashboard
headless as root without the capabilities that bypass file permissions (setpriv), facing a
run folder that belongs to another user: the same view a non-root operator has of root's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sm_testkit import write_toml

from tests.conftest import REPO

NO_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]

HEADLESS = r"""
import asyncio, sys
from pathlib import Path
from tui.app.app import MirrorApp
from tui.app.widgets.preflight import ProblemPanel
from tui.config import Overrides, load_job

async def main() -> None:
    job = load_job(Path(sys.argv[1]), "t", Overrides())
    app = MirrorApp(job, ["--config", sys.argv[1], "--job", "t"], hostname="h")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        panel = app.screen.query_one(ProblemPanel)
        print("shown" if panel.shown else "hidden")
        print(panel.border_title)
        print(panel.render())

asyncio.run(main())
"""


def test_a_dashboard_that_cannot_see_the_lock_says_so(tmp_path: Path, cli_env) -> None:
    base = tmp_path / "job"
    (base / "src").mkdir(parents=True)
    run_dir = base / "run"
    run_dir.mkdir(mode=0o700)
    os.chown(run_dir, 65534, 65534)  # not ours: like root's 0700 folder to anyone else
    config = write_toml(base / "config.toml", {"t": {
        "source": str(base / "src"), "destination": str(base / "dst"), "run_dir": str(run_dir),
        "log_file": str(base / "mirror.log"), "summary_file": str(base / "summary.json"),
        "metrics_file": str(base / "metrics.prom"), "require_mount": False}})
    out = subprocess.run([*NO_DAC, sys.executable, "-c", HEADLESS, str(config)], env=cli_env,
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    state, title, *text = out.stdout.splitlines()
    assert state == "shown", out.stdout
    assert title == "Runs of this job are out of sight"
    said = " ".join(text)
    assert str(run_dir / "lock") in said and "sudo space-mirror" in said
