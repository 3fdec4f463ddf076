"""Issue 15's operator scenario, end to end in a real terminal (tmux, 80x24): a real run
failed overnight with part of the destination read-only and a folder that is a file. From
the dashboard, ONE key (`l`) shows the class, the files and the remedy on the first screen.
The run is started from the CLI without the capabilities that bypass file permissions
(setpriv, tests/history/scenario.py): root would otherwise write anywhere."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from test_dashboard_tmux import COMMAND, Tmux

from tests.history.scenario import failing_night

pytestmark = pytest.mark.e2e


def _flat(screen: str) -> str:
    return " ".join(line.strip("│▌█▐ ") for line in screen.splitlines())


def test_one_key_shows_why_which_files_and_what_to_do(tmux: Tmux) -> None:
    # A short base, as a real mirror's (/mnt/mirror): pytest's tmp_path is 60 columns long.
    with tempfile.TemporaryDirectory(prefix="sm-", dir="/tmp") as base:
        cfg, _, dst = failing_night(Path(base))
        tmux("new-session", "-d", "-x", "80", "-y", "24", "-s", "dash",
             "env", "TERM=xterm-256color", f"PATH={os.environ.get('PATH', '')}",
             str(COMMAND), "--config", str(cfg), "--job", "t")
        dashboard = _flat(tmux.wait_for("LAST RUN FAILED"))
        # The reason leads with the class, its count and the remedy; not rclone's summary.
        dashboard = _flat(tmux.wait_for("[l] details"))
        assert "reason: permission ×2" in dashboard, dashboard
        assert "Attempt 3/3" not in dashboard.split("reason:", 1)[1].split("[l]", 1)[0]
        tmux("send-keys", "-t", "dash", "l")
        detail = _flat(tmux.wait_for("Why:"))
    assert "FAILED · exit 1" in detail and "3 attempts" in detail, detail
    assert "Why: 3 causes (each file once, rclone tried 3 times)" in detail
    assert "Files (3): " in detail
    for name in ("ro/a.txt", "ro/b.txt", "dirfile/x.txt"):
        assert name in detail
    assert "permission ×2: ro/" in detail and "io ×1: dirfile/x.txt" in detail
    assert f"make the folders named writable by the runner (root) under {dst}" in detail
    assert "a path is a file at the destination where the source has a folder" in detail
