"""The wheel carries the dashboard and its stylesheet: build it, install it into a fresh venv
(dependencies from the dev venv via PYTHONPATH, no network), start the app headless."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PROBE = r"""
import asyncio, sys, tempfile
from pathlib import Path
import tui
from tui.app.app import MirrorApp
from tui.config import Job

async def main():
    d = Path(tempfile.mkdtemp())
    job = Job(source=str(d), destination=str(d / "dst"), log_file=d / "log",
              lock_file=d / "lock", env_file=None)
    app = MirrorApp(job, [], hostname="wheel", find_running=lambda j: None)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        log = app.query_one("#log")
        print("TUI", tui.__file__)
        print("CSS", app.css_path[0])
        print("MINH", log.styles.min_height)
        print("BORDER", log.styles.border_top[0])
asyncio.run(main())
"""


def test_wheel_installs_and_finds_its_styles(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "-q",
                    "-w", str(wheels)], check=True, cwd=tmp_path, timeout=240)
    wheel = next(wheels.glob("space_mirror-*.whl"))
    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=60)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                    "--no-deps", "--no-index", str(wheel)], check=True, timeout=120)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["TMPDIR"] = str(tmp_path)  # the probe's mkdtemp() stays in the test's folder
    # Dependencies (textual, rich, psutil …) come from the dev venv; `tui` must not.
    env["PYTHONPATH"] = sysconfig.get_paths()["purelib"]
    out = subprocess.run([str(python), "-c", PROBE], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines() if " " in line)
    assert lines["TUI"].startswith(str(venv)), lines["TUI"]
    assert lines["CSS"].startswith(str(venv)) and lines["CSS"].endswith("tui/styles/app.tcss")
    assert lines["MINH"] == "3"  # a rule that only styles/app.tcss sets
    assert lines["BORDER"] == "round"
