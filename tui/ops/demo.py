"""The built-in demo job: a generated tree, mirrored by the real rclone to a local folder.

`prepare()` makes (once) a source tree of a few thousand files of mixed sizes, a log that
already holds real past runs (one of them failed), and a config for the job `demo`. Each
call then changes the tree (new, rewritten, renamed and deleted files), so that the next
sync has about a minute of work under the demo's bandwidth limit.
"""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from tui.config import Job, Overrides, load_job
from tui.ops import safefile

JOB_NAME = "demo"
BWLIMIT = "1M"
FOLDERS = ("photos", "projects", "music", "documents", "archive")


def default_dir() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "space-mirror-demo"


def config_text(base: Path) -> str:
    return f"""# The demo job of `space-mirror demo` (generated).
[jobs.{JOB_NAME}]
source = "{base / 'space'}"
destination = "{base / 'mirror'}"
flags = ["--transfers", "4", "--track-renames", "--bwlimit", "{BWLIMIT}"]
log_file = "{base / 'space-mirror.log'}"
lock_file = "{base / 'demo.lock'}"
metrics_file = "{base / 'metrics' / 'space_mirror_demo.prom'}"
summary_file = "{base / 'metrics' / 'demo.last-run.json'}"
require_mount = false
env = {{}}
abort_grace = 10
"""


def prepare(base: Path, progress: Callable[[str], None] = lambda _m: None,
            seed: int | None = None) -> Path:
    """Make the demo ready; returns the config file's path."""
    base = base.resolve()
    # Ours alone (0700, refused when another user owns or can write it or a folder on the
    # way): the config loaded next names the hooks root would run (issue 20 row 3).
    safefile.private_folder(base)
    config = base / "config.toml"
    rng = random.Random(seed)
    source = base / "space"
    first_time = not (base / "space-mirror.log").exists()
    if first_time:
        progress(f"space-mirror demo: generating a tree of files in {source} …")
        generate_tree(source, rng, files=3000)
        safefile.write_atomic(config, config_text(base).encode("utf-8"), 0o600, 0o700)
        progress("space-mirror demo: recording a few real past runs in the demo log …")
        _record_history(config, rng)
    else:
        safefile.write_atomic(config, config_text(base).encode("utf-8"), 0o600, 0o700)
    mutate_tree(source, rng, rewrite_bytes=45 * 1024 * 1024)
    return config


def generate_tree(root: Path, rng: random.Random, files: int) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        folder = root / FOLDERS[i % len(FOLDERS)] / f"set-{i % 37:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        _write_random(folder / f"file-{i:05d}.bin", rng, _pick_size(rng))
    (root / ".space-mirror-sentinel").write_text("demo\n")


def _pick_size(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.85:
        return rng.randint(200, 16 * 1024)
    if roll < 0.98:
        return rng.randint(16 * 1024, 512 * 1024)
    return rng.randint(1, 4) * 1024 * 1024


def _write_random(path: Path, rng: random.Random, size: int) -> None:
    with open(path, "wb") as fh:
        fh.write(rng.randbytes(size))


def mutate_tree(root: Path, rng: random.Random, rewrite_bytes: int) -> None:
    """New, rewritten, renamed and deleted files: the kind of change a night brings."""
    files = sorted(p for p in root.rglob("*.bin") if p.is_file())
    if not files:
        return
    rng.shuffle(files)
    for victim in files[:15]:
        victim.unlink()
    for moved in files[15:35]:
        moved.rename(moved.with_name("renamed-" + moved.name))
    written = 0
    for target in files[35:]:
        if written >= rewrite_bytes:
            break
        size = rng.randint(256 * 1024, 3 * 1024 * 1024)
        _write_random(target, rng, size)
        written += size
    for i in range(40):
        folder = root / FOLDERS[i % len(FOLDERS)] / "new"
        folder.mkdir(parents=True, exist_ok=True)
        _write_random(folder / f"new-{rng.getrandbits(32):08x}.bin", rng, rng.randint(100, 8192))


def _record_history(config: Path, rng: random.Random) -> None:
    """Real runs by the real runner, fast (no bandwidth limit): two good, one failed."""
    from tui.ops.run.context import RunOptions
    from tui.ops.run.sync import run_job

    job = load_job(config, JOB_NAME, Overrides())
    fast = replace(job, flags=tuple(f for f in job.flags if f not in ("--bwlimit", BWLIMIT)))
    with (open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet),
          contextlib.redirect_stderr(quiet)):
        run_job(fast, RunOptions(offline=True))
        mutate_tree(Path(job.source), rng, rewrite_bytes=4 * 1024 * 1024)
        run_job(fast, RunOptions(offline=True))
        mutate_tree(Path(job.source), rng, rewrite_bytes=1024 * 1024)
        # A night that failed: the night removed 15 files, and the delete guard (a cap of 10
        # for this night) stopped rclone at its cap (exit 7).
        run_job(fast, RunOptions(offline=True, max_delete=10))


def demo_job(base: Path) -> Job:
    return load_job(base / "config.toml", JOB_NAME, Overrides())

