"""CI gate (issue 21) on what is deterministic: memory that does not grow with the log, and
what the dashboard imports before its first frame. Timing is `make bench`'s business.

The logs are the recorded wrapper nights (tests/fixtures/shapes/wrapper-text) scaled up:
the same 20 nights (every 10th the recorded I/O failure), with each night's per-file lines
repeated until the file is 10 MB or 1 GiB. Written to tmpfs when there is one, removed after.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.history.peak import peak_rss

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
NIGHTS_LOG = REPO / "tests" / "fixtures" / "shapes" / "wrapper-text" / "space-mirror.log"
NIGHTS = 20
MB = 1024 * 1024


def _nights() -> tuple[bytes, bytes]:
    """The recorded first (success) and third (I/O failure) nights."""
    data = NIGHTS_LOG.read_bytes()
    starts = [i for i in range(len(data)) if data.startswith(b"[", i)
              and (i == 0 or data[i - 1] == 10)
              and data.startswith(b"Starting Space Mirror", data.index(b"] ", i) + 2)]
    assert len(starts) == 3
    return data[starts[0]:starts[1]], data[starts[2]:]


def _scaled(night: bytes, size: int) -> bytes:
    """`night` with its per-file lines repeated until it is about `size` bytes."""
    lines = night.splitlines(keepends=True)
    copied = [ln for ln in lines if b": Copied (" in ln] or [lines[1]]
    at = lines.index(copied[-1]) + 1
    unit = b"".join(copied)
    reps = max(0, (size - len(night)) // len(unit))
    return b"".join(lines[:at]) + unit * reps + b"".join(lines[at:])


def write_log(path: Path, total: int) -> None:
    ok, bad = _nights()
    per_night = total // NIGHTS
    ok_big, bad_big = _scaled(ok, per_night), _scaled(bad, per_night)
    with path.open("wb") as fh:
        for n in range(NIGHTS):
            fh.write(bad_big if n % 10 == 9 else ok_big)


@pytest.fixture(scope="module")
def logs() -> Iterator[dict[str, Path]]:
    shm = Path("/dev/shm")
    base = Path(tempfile.mkdtemp(prefix="sm-gate-", dir=shm if shm.is_dir() else None))
    try:
        out = {}
        for name, size in (("small", 10 * MB), ("big", 1024 * MB)):
            folder = base / name
            folder.mkdir()
            write_log(folder / "space-mirror.log", size)
            (folder / "src").mkdir()
            (folder / "t.toml").write_text(
                "[jobs.t]\n"
                f'source = "{folder / "src"}"\n'
                f'destination = "{folder / "dst"}"\n'
                f'log_file = "{folder / "space-mirror.log"}"\n'
                f'lock_file = "{folder / "t.lock"}"\n'
                "require_mount = false\n")
            out[name] = folder
        yield out
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _env(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPACE_MIRROR_")}
    env["XDG_CACHE_HOME"] = str(cache)
    return env


def test_history_memory_does_not_grow_with_the_log(logs: dict[str, Path],
                                                   tmp_path: Path) -> None:
    peaks = {}
    for name, folder in logs.items():
        log = folder / "space-mirror.log"
        assert log.stat().st_size > (900 * MB if name == "big" else 9 * MB)
        peak = peak_rss([sys.executable, "-m", "tui", "history", "--json", "--log", str(log)],
                        _env(tmp_path / f"cache-{name}"))
        assert peak.rc == 0, peak.stderr
        runs = json.loads(peak.stdout)["runs"]
        assert len(runs) == NIGHTS
        assert [r["outcome"] for r in runs].count("failed") == NIGHTS // 10
        peaks[name] = peak.peak_mb
    print(f"history --json peak RSS: {peaks}")
    assert peaks["big"] <= 80, peaks
    assert peaks["big"] <= 1.2 * peaks["small"], peaks


def test_dashboard_start_memory_does_not_grow_with_the_log(logs: dict[str, Path],
                                                           tmp_path: Path) -> None:
    peaks = {}
    for name, folder in logs.items():
        out = subprocess.run([sys.executable, "-m", "bench.dashboard_probe", "rss",
                              str(folder / "t.toml")], cwd=REPO, capture_output=True,
                             text=True, timeout=180, env=_env(tmp_path / f"cache-{name}"))
        assert out.returncode == 0, out.stderr[-2000:]
        result = json.loads(out.stdout.strip().splitlines()[-1])
        assert result["runs"] == NIGHTS
        peaks[name] = result["peak_mb"]
    print(f"dashboard peak RSS: {peaks}")
    assert peaks["big"] <= 1.2 * peaks["small"], peaks


# What the history scanner needs is loaded by the worker that reads the history, after the
# first frame: none of it may be on the start path.
# Nor the process table (psutil), the pre-flight and the env-file parser: the workers that
# probe processes and check before a start load them after the first frame.
NOT_BEFORE_FIRST_FRAME = {
    "tui.core.history.assemble", "tui.core.history.cache", "tui.core.history.files",
    "tui.core.history.scan", "tui.core.history.persistent", "tui.core.history.report",
    "tui.core.history.split", "tui.ops.history",
    "psutil", "dotenv", "tui.ops.processes", "tui.ops.preflight",
    # Nor what the first frame only names as a type, or needs one small function of: the
    # history's run model, the health rules, the delete guard, the metrics' coverage
    # (issue 21's fourth round took 19 ms of imports off the start this way).
    "tui.core.history.model", "tui.core.health", "tui.ops.health", "tui.core.rotation",
    "tui.core.rclone_version", "tui.ops.guards.deletes",
    # Textual's table (the history, overview and fleet screens' rows) and importlib's
    # resource readers (zipfile): the stylesheets are found on disk.
    "textual.widgets._data_table", "importlib.resources", "zipfile",
    # Issue 21's fifth round: what the workers, a key or a run's end need, not the first
    # frame: the log's follower, the dialogs, why a run stopped (outcome, remedies, triage
    # classes), the lock (its sight check runs with the workers), the credentials' file
    # handling (the destination is shown by tui.core.remotes) and the metrics' writers
    # (the last success is read by tui.ops.monitor.summary).
    "tui.core.follow", "tui.app.screens.dialogs", "tui.core.outcome", "tui.core.remedy",
    "tui.core.triage", "tui.ops.lock", "tui.ops.credentials", "tui.ops.monitor.metrics",
}


def test_first_frame_imports_no_history_reader(logs: dict[str, Path], tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "bench.dashboard_probe", "modules",
                          str(logs["small"] / "t.toml")], cwd=REPO, capture_output=True,
                         text=True, timeout=120, env=_env(tmp_path / "cache"))
    assert out.returncode == 0, out.stderr[-2000:]
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert "tui.app.app" in loaded  # the probe saw the real dashboard
    assert not loaded & NOT_BEFORE_FIRST_FRAME, sorted(loaded & NOT_BEFORE_FIRST_FRAME)
