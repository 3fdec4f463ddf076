"""window_end → `--max-duration Ns --cutoff-mode soft`, and what the real rclone (1.75.2)
does with it: at the deadline it starts no new transfer, finishes the ones in flight, and
exits 10. docs/runner.md#limits quotes this test."""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tui.config import Job
from tui.ops.run.watchdog import window_flags


def test_soft_cutoff_finishes_in_flight_files_and_starts_no_more(
        tmp_path: Path, rclone_bin: Path, make_tree, cli_env) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    make_tree(src, {f"f{i}.bin": 1_500_000 for i in range(6)})
    # The window closes 2 s after the run starts.
    start = datetime(2030, 1, 1, 6, 59, 58, tzinfo=timezone(timedelta(hours=1)))
    flags = window_flags(Job(window_end="07:00"), start)
    assert flags == ["--max-duration", "2s", "--cutoff-mode", "soft"]
    out = subprocess.run(
        [str(rclone_bin), "sync", str(src), str(dst), "--transfers", "2", "--bwlimit", "1M",
         "-v", "--stats", "0", *flags], capture_output=True, text=True, timeout=60,
        env=cli_env)
    assert out.returncode == 10, out.stderr
    assert "Transfer session SOFT deadline" in out.stderr
    assert "max transfer duration reached as set by --max-duration" in out.stderr
    copied = sorted(p.name for p in dst.iterdir())
    # The two files in flight at the deadline were finished (whole, no .partial), and
    # nothing else was started.
    assert len(copied) == 2 and all(not n.endswith(".partial") for n in copied), copied
    assert all((dst / n).stat().st_size == 1_500_000 for n in copied)
