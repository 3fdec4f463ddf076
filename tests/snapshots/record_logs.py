"""Record the real logs the snapshot tests and screenshots replay.

Run once (`python tests/snapshots/record_logs.py`); the logs land in tests/snapshots/logs/.
Every line in them was written by the real runner and the real rclone: a first full sync
(idle.log), a second sync caught mid-way (running.log) and then aborted (aborted.log), and
a third one stopped by the delete guard (failed.log). Each file is the cumulative log.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
OUT = HERE / "logs"
BASE = Path("/tmp/space-mirror-recording")


def _write_tree(src: Path, rng: random.Random) -> None:
    for folder in ("photos/2026", "projects/site", "music", "documents"):
        (src / folder).mkdir(parents=True, exist_ok=True)
    for i in range(24):
        folder = ("photos/2026", "projects/site", "music", "documents")[i % 4]
        (src / folder / f"file-{i:03d}.bin").write_bytes(rng.randbytes(rng.randint(2000, 60000)))
    # Names that must stay plain text on screen.
    (src / "documents" / "x[").mkdir(exist_ok=True)
    (src / "documents" / "x[" / "bold].txt").write_text("markup is not for file names\n")
    (src / "documents" / "[red]report[b].pdf").write_bytes(rng.randbytes(3000))


def _config(bwlimit: str | None) -> Path:
    flags = ["--transfers", "4"] + (["--bwlimit", bwlimit] if bwlimit else [])
    path = BASE / f"config-{bwlimit or 'fast'}.toml"
    path.write_text(f"""[jobs.space-mirror]
source = "{BASE / 'space'}"
destination = "{BASE / 'mirror'}"
flags = {flags!r}
log_file = "{BASE / 'space-mirror.log'}"
lock_file = "{BASE / 'lock'}"
metrics_file = "{BASE / 'm.prom'}"
summary_file = "{BASE / 's.json'}"
require_mount = false
env = {{}}
""".replace("'", '"'))
    return path


def _run(config: Path, *extra: str) -> int:
    return subprocess.call([sys.executable, "-m", "tui", "--config", str(config), "run", *extra],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _complete_lines(data: bytes) -> bytes:
    return data[: data.rfind(b"\n") + 1]


def main() -> None:
    rng = random.Random(20261125)
    shutil.rmtree(BASE, ignore_errors=True)
    BASE.mkdir(parents=True)
    OUT.mkdir(exist_ok=True)
    src = BASE / "space"
    log = BASE / "space-mirror.log"
    _write_tree(src, rng)
    assert _run(_config(None)) == 0
    shutil.copy(log, OUT / "idle.log")

    # Second night: big new files, slow link; caught mid-way, then aborted.
    for i in range(6):
        (src / "photos/2026" / f"raw-{i:02d}.dng").write_bytes(rng.randbytes(1_500_000))
    proc = subprocess.Popen([sys.executable, "-m", "tui", "--config", str(_config("400k")),
                             "run"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        text = log.read_bytes()
        if text.count(b'"transferring"') >= 4 and b"Copied (new)" in text.split(
                b"Starting Space Mirror")[-1]:
            break
        time.sleep(0.2)
    (OUT / "running.log").write_bytes(_complete_lines(log.read_bytes()))
    os.kill(proc.pid, signal.SIGTERM)
    proc.wait(30)
    shutil.copy(log, OUT / "aborted.log")

    # Third night: files deleted at the source, and a delete guard of 1 stops the run at it.
    for victim in sorted((src / "music").glob("*.bin"))[:3]:
        victim.unlink()
    assert _run(_config(None), "--allow-deletes", "1") != 0
    shutil.copy(log, OUT / "failed.log")
    print(f"recorded {sorted(p.name for p in OUT.glob('*.log'))}")


def record_sixteen() -> None:
    """Issue 22: a sync with --transfers 16 caught with 16 files in flight
    (running-16.log), for the in-flight box at 120x40. Recorded on its own
    (`record_logs.py sixteen`): the other logs stay as they are."""
    rng = random.Random(20261207)
    base = BASE / "sixteen"
    shutil.rmtree(base, ignore_errors=True)
    src = base / "space" / "video" / "2026"
    src.mkdir(parents=True)
    for i in range(16):
        (src / f"clip-{i:02d}.mp4").write_bytes(rng.randbytes(1_000_000))
    log = base / "space-mirror.log"
    config = base / "config.toml"
    config.write_text(f"""[jobs.space-mirror]
source = "{base / 'space'}"
destination = "{base / 'mirror'}"
flags = ["--transfers", "16", "--bwlimit", "1M"]
log_file = "{log}"
lock_file = "{base / 'lock'}"
metrics_file = "{base / 'm.prom'}"
summary_file = "{base / 's.json'}"
require_mount = false
env = {{}}
""")
    proc = subprocess.Popen([sys.executable, "-m", "tui", "--config", str(config), "run"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        lines = log.read_bytes().splitlines() if log.exists() else []
        stats = [ln for ln in lines if b'"transferring"' in ln]
        if len(stats) >= 3 and stats[-1].count(b'"name"') >= 16:
            break
        time.sleep(0.2)
    OUT.mkdir(exist_ok=True)
    (OUT / "running-16.log").write_bytes(_complete_lines(log.read_bytes()))
    os.kill(proc.pid, signal.SIGTERM)
    proc.wait(30)
    print("recorded running-16.log")


if __name__ == "__main__":
    if sys.argv[1:] == ["sixteen"]:
        record_sixteen()
    else:
        main()
