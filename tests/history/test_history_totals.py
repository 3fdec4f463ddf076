"""rclone's own final stats are the truth about a run's counters (issue 10 item 8)."""

from __future__ import annotations

from pathlib import Path

from tests.history.realruns import make_tree, run_wrapper
from tui.core.history import scan_history


def _real_run_log(base: Path, name: str, files: dict[str, int]) -> bytes:
    src, dst, log = base / f"{name}-src", base / f"{name}-dst", base / f"{name}.log"
    make_tree(src, files)
    assert run_wrapper(src, str(dst), log) == 0
    return log.read_bytes()


def test_final_stats_win_over_a_stray_copied_line(tmp_path: Path) -> None:
    """Seen: final stats `Transferred: 1 / 1`, history said 2 because another run's
    `Copied (new)` line had landed inside the run."""
    one = _real_run_log(tmp_path, "one", {"a.txt": 100})
    other = _real_run_log(tmp_path, "other", {"b.txt": 100})
    stray = next(line for line in other.splitlines(keepends=True) if b": Copied (new)" in line)
    lines = one.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if b": Copied (new)" in line)
    log = tmp_path / "space-mirror.log"
    log.write_bytes(b"".join([*lines[:at + 1], stray, *lines[at + 1:]]))
    assert b"Transferred:" in one and one.count(b": Copied (new)") == 1

    (run,) = scan_history(log, use_cache=False).runs
    assert run.outcome == "success"
    assert run.transfers == 1
