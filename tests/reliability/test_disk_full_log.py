"""Issue 11, row 7: the log's file system fills up during a run (a real 64 KiB tmpfs).

The run's end is still on record (room reserved for the end marker, else stderr: the
journal), the next start marker begins on a fresh line so history reads both runs, the
metrics and summary failures are reported, and stdout does not pass short counts off as
the run's totals.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sm_testkit import write_toml

MARKERS = ("Starting Space Mirror...", "Space Mirror Complete.", "Space Mirror FAILED",
           "Space Mirror ABORTED")


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    mnt = tmp_path / "logfs"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs (this suite runs as root): {r.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(mnt: Path, leave: int) -> Path:
    """A filler file that leaves about `leave` bytes free."""
    filler = mnt / "filler"
    st = os.statvfs(mnt)
    size = st.f_bavail * st.f_frsize - leave
    with open(filler, "wb") as fh:
        fh.write(b"\0" * size)
    return filler


def test_row7_full_log_file_system_is_survivable(small_fs: Path, tmp_path: Path,
                                                 run_cli) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for i in range(30):
        (src / f"f{i:02}.bin").write_bytes(os.urandom(100_000))  # 30 files, 2.9 MiB
    log, metrics, summary = small_fs / "mirror.log", small_fs / "m.prom", small_fs / "s.json"
    config = write_toml(tmp_path / "config.toml", {"t": {
        "source": str(src), "destination": str(tmp_path / "dst"), "require_mount": False,
        "env_file": "", "log_file": str(log), "lock_file": str(tmp_path / "lock"),
        "metrics_file": str(metrics), "summary_file": str(summary)}})
    filler = _fill(small_fs, 8 * 1024)  # two pages: fewer than rclone writes
    r = run_cli("--config", str(config), "run")
    assert r.returncode == 0, r.stderr
    assert len(list((tmp_path / "dst").iterdir())) == 30
    text = log.read_bytes().decode("utf-8", "replace")
    ends = [ln for ln in text.splitlines() if "Space Mirror Complete." in ln]
    on_record = bool(ends) or "Space Mirror Complete." in r.stderr  # the journal, at worst
    assert on_record, (text[-500:], r.stderr)
    # the summary never claims the short counts as the run's totals
    assert "30 transferred" in r.stdout or "counts incomplete" in r.stdout, r.stdout
    # what could not be written is said, never silent
    for path in (metrics, summary):
        if not path.exists():
            assert f"could not write {path}" in r.stderr, r.stderr

    filler.unlink()  # space again: the next run's start marker starts a line of its own
    (src / "new.bin").write_bytes(b"new")
    r2 = run_cli("--config", str(config), "run")
    assert r2.returncode == 0, r2.stderr
    lines = log.read_bytes().decode("utf-8", "replace").splitlines()
    for ln in lines:
        if any(m in ln for m in MARKERS):
            assert ln.startswith("["), f"a marker glued to another line: {ln[:120]!r}"
    h = run_cli("--config", str(config), "history", "--json")
    assert h.returncode == 0, h.stderr
    runs = json.loads(h.stdout)
    runs = runs["runs"] if isinstance(runs, dict) else runs
    assert len(runs) == 2
    assert all(run.get("started") not in (None, "?") for run in runs), runs


def test_row7_start_marker_after_a_cut_off_line_starts_a_line(tmp_path: Path, run_cli) -> None:
    """A log whose last line was cut off (a full disk, a killed writer): the next start
    marker is not glued to it, so history reads the run's start time."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "a").write_text("a")
    log = tmp_path / "mirror.log"
    log.write_bytes(b'{"time":"2026-11-25T03:00:02Z","level":"info","msg":"Copied (ne')
    log.chmod(0o640)
    config = write_toml(tmp_path / "config.toml", {"t": {
        "source": str(src), "destination": str(tmp_path / "dst"), "require_mount": False,
        "env_file": "", "log_file": str(log), "lock_file": str(tmp_path / "lock"),
        "metrics_file": str(tmp_path / "m.prom"), "summary_file": str(tmp_path / "s.json")}})
    assert run_cli("--config", str(config), "run").returncode == 0
    starts = [ln for ln in log.read_text().splitlines() if "Starting Space Mirror..." in ln]
    assert len(starts) == 1 and starts[0].startswith("["), starts
    h = run_cli("--config", str(config), "history", "--json")
    runs = json.loads(h.stdout)
    runs = runs["runs"] if isinstance(runs, dict) else runs
    assert [run["started"] for run in runs if run.get("id")] != ["?"]
    assert all(run.get("started") not in (None, "?") for run in runs if run.get("id"))


def _slow_sync_config(tmp_path: Path, log: Path, lock_dir: Path) -> Path:
    """A sync of ~6 s (1.5 MiB at 256 KiB/s) with a 2 s stall_timeout: far shorter than the
    run, so a watchdog that judged progress by the log's lines would stop it."""
    src = tmp_path / "src"
    src.mkdir()
    for i in range(15):
        (src / f"f{i:02}.bin").write_bytes(os.urandom(100_000))
    lock_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    return write_toml(tmp_path / "config.toml", {"t": {
        "source": str(src), "destination": str(tmp_path / "dst"), "require_mount": False,
        "env_file": "", "log_file": str(log), "lock_file": str(lock_dir / "lock"),
        "metrics_file": str(tmp_path / "m.prom"), "summary_file": str(tmp_path / "s.json"),
        "stall_timeout": 2, "bwlimit": "256k"}})


def test_issue22_full_log_disk_does_not_stop_a_healthy_sync(small_fs: Path, tmp_path: Path,
                                                            run_cli) -> None:
    """Issue 22, item 2: rclone writes nothing to a full log, yet it transfers; the watchdog
    reads rclone's own counters (rc core/stats) and the sync exits 0 with all its files,
    and its counts are rclone's, not the log's empty ones."""
    log = small_fs / "mirror.log"
    config = _slow_sync_config(tmp_path, log, tmp_path / "run")
    _fill(small_fs, 8 * 1024)
    r = run_cli("--config", str(config), "run", timeout=90)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert len(list((tmp_path / "dst").iterdir())) == 15
    assert "log disk full" in r.stderr and "remote control" in r.stderr, r.stderr
    assert "stall_timeout" not in r.stderr, r.stderr
    # rclone's counters, not the log's (nothing of rclone's reached it): bytes were counted;
    # the last second before rclone exited may be missing, and the line says so.
    assert "15 transferred" in r.stdout or "counts incomplete" in r.stdout, r.stdout
    assert ": 0 B," not in r.stdout, r.stdout


def test_issue22_full_log_disk_without_remote_control(small_fs: Path, tmp_path: Path,
                                                      run_cli) -> None:
    """The same, where the remote control cannot run (a lock folder whose socket path is
    too long for a unix socket): the stall verdict waits for the log, the sync goes on."""
    log = small_fs / "mirror.log"
    deep = tmp_path / ("x" * 60) / ("y" * 60)
    config = _slow_sync_config(tmp_path, log, deep)
    _fill(small_fs, 8 * 1024)
    r = run_cli("--config", str(config), "run", timeout=90)
    assert "live bandwidth control is off" in r.stderr, r.stderr  # no rc: the case tested
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert len(list((tmp_path / "dst").iterdir())) == 15
    assert "log disk full" in r.stderr and "waits until the log" in r.stderr, r.stderr


async def test_issue22_dashboard_says_log_disk_full_not_stalled(small_fs: Path,
                                                                tmp_path: Path) -> None:
    """The dashboard during the same sync: no line reaches the log, so it cannot see
    progress. It says the log's disk is full and never calls the run STALLED; the sync
    exits 0."""
    import sys
    import time

    from tests.app.app_helpers import screen_text, wait_text
    from tui.app.app import MirrorApp
    from tui.config import Overrides, load_job

    config = _slow_sync_config(tmp_path, small_fs / "mirror.log", tmp_path / "run")
    _fill(small_fs, 8 * 1024)
    job = load_job(config, "t", Overrides())
    runner = subprocess.Popen([sys.executable, "-m", "tui", "--config", str(config), "run"],
                              cwd=Path(__file__).resolve().parents[2],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        app = MirrorApp(job, ["--config", str(config), "--job", "t"], hostname="h")
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_text(pilot, "log disk full", timeout=20)
            # Poll (no sleep as synchronisation): until the run ends, never STALLED.
            deadline = time.monotonic() + 60
            while runner.poll() is None:
                assert "STALLED" not in screen_text(pilot), screen_text(pilot)
                assert time.monotonic() < deadline, "the sync did not end"
                await pilot.pause(0.2)
        assert runner.wait(5) == 0
    finally:
        if runner.poll() is None:
            runner.kill()
