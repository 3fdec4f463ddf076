"""Issue 11, row 13: rclone killed by SIGQUIT (a Go stack dump, exit 2) is recorded as
"rclone crashed (SIGQUIT or panic)", not as a syntax or usage error.

The other half of row 13 (`preallocate: file too big` and ENOSPC at the destination classed
`quota`) belongs to the triage (tui/core/triage.py, issue 12) and is tested there.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sm_testkit import REPO, wait_until, write_toml

from tui.core.markers import MarkerKind, parse_marker
from tui.ops import lock


def test_row13_sigquit_to_rclone_is_named_a_crash(tmp_path: Path, cli_env: dict[str, str]) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "big.bin").write_bytes(os.urandom(4_000_000))
    lock_path, log = tmp_path / "lock", tmp_path / "mirror.log"
    config = write_toml(tmp_path / "config.toml", {"t": {
        "source": str(src), "destination": str(tmp_path / "dst"), "require_mount": False,
        "flags": ["--bwlimit", "200k"], "log_file": str(log), "lock_file": str(lock_path),
        "summary_file": str(tmp_path / "summary.json"),
        "metrics_file": str(tmp_path / "metrics.prom")}})
    run = subprocess.Popen([sys.executable, "-m", "tui", "--config", str(config), "run"],
                           env=cli_env, cwd=str(REPO), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        record = wait_until(lambda: (lambda r: r if r and r.rclone_pid else None)(
            lock.read_holder(lock_path)), 60, "rclone to start")
        wait_until(lambda: b'"stats"' in log.read_bytes(), 30, "rclone's first stats line")
        os.kill(record.rclone_pid, signal.SIGQUIT)
        out, err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
    assert run.returncode == 2, (out, err)
    assert "rclone crashed (SIGQUIT or panic)" in out
    end = parse_marker(log.read_text().splitlines()[-1])
    assert end is not None and end.kind is MarkerKind.FAILED
    assert "rclone crashed (SIGQUIT or panic)" in log.read_text().splitlines()[-1]
    assert "syntax or usage" not in log.read_text().splitlines()[-1].lower()
