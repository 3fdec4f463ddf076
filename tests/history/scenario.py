"""Issue 15's operator scenario, for real: a run fails overnight with part of the destination
read-only (a mode-0555 folder) and a folder that is a file (the source has `dirfile/`, the
destination a file `dirfile`). The runner runs as root, and root writes anywhere: the run
drops the capabilities that bypass file permissions (setpriv), as in
test_history_persistent.py, so rclone really gets `permission denied`."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.history.realruns import (
    REPO,
    _base_env,
    make_tree,
    run_runner,
    runner_argv,
    write_config,
)

NO_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def run_without_dac(cfg: Path, *extra: str) -> int:
    proc = subprocess.run([*NO_DAC, *runner_argv(cfg, *extra)], env=_base_env(None), cwd=REPO,
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, timeout=120)
    return proc.returncode


def failing_night(base: Path, name: str = "t") -> tuple[Path, Path, Path]:
    """Set up the scenario under `base` and run it once (it fails). Returns (config, log,
    destination)."""
    src, dst, log = base / "src", base / "dst", base / "space-mirror.log"
    make_tree(src, {"keep.txt": 300, "ro/a.txt": 100, "ro/b.txt": 100, "dirfile/x.txt": 50})
    (dst / "ro").mkdir(parents=True)
    (dst / "dirfile").write_bytes(b"a file where the source has a folder\n")
    (dst / "ro").chmod(0o555)
    cfg = write_config(base, src, str(dst), log, name=name)
    assert run_without_dac(cfg) != 0
    return cfg, log, dst


def streak_nights(base: Path) -> tuple[Path, Path, Path]:
    """Issue 12's nights: one good night, three nights with an unreadable file and a file
    removed from the source, then a dry run. Returns (config, log, source)."""
    src, dst, log = base / "src", base / "dst", base / "space-mirror.log"
    make_tree(src, {"keep.txt": 300, "gone.txt": 200, "locked.bin": 500})
    cfg = write_config(base, src, str(dst), log)
    assert run_runner(cfg) == 0
    (src / "gone.txt").unlink()  # the mirror should delete it now
    (src / "locked.bin").write_bytes(b"changed, so it must be copied again\n")
    (src / "locked.bin").chmod(0)
    for _ in range(3):
        assert run_without_dac(cfg) != 0
    assert run_without_dac(cfg, "--dry-run") == 0
    assert (dst / "gone.txt").exists()  # really never deleted
    return cfg, log, src
