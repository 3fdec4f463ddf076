"""Issue 15, item 2: the runner's end-marker reason after a real failed run leads with the
main class, its count and its example, then the remedy; never rclone's `Attempt N/M` line."""

from __future__ import annotations

from pathlib import Path

from tests.history.scenario import failing_night
from tui.core.history import scan_history


def test_end_marker_reason_prescribes(tmp_path: Path) -> None:
    _, log, dst = failing_night(tmp_path)
    (run,) = scan_history(log, use_cache=False).runs
    reason = run.reason or ""
    assert "Attempt" not in reason and "Error not otherwise categorised" not in reason
    assert reason.startswith("permission ×2 (ro/"), reason
    assert "permission denied" in reason
    assert f"make the folders named writable by the runner (root) under {dst}" in reason
    assert "; 3 attempts" in reason and "+1 other class" in reason
    # The history counts the same causes once each (item 1), on a real run.
    assert [(c.cls, c.count) for c in run.error_classes] == [("permission", 2), ("io", 1)]
    assert run.attempts == 3
    assert set(run.failed_files) == {"ro/a.txt", "ro/b.txt", "dirfile/x.txt"}
