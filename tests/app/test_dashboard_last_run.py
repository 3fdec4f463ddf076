"""Issue 15, items 4 and 5: from the dashboard, `l` opens the last run's detail, and at 80x24
its first screen answers why, which files and what to do: the classes with their counts
(each file once, the attempts apart), the failed files and each class's remedy. A real run
that failed on a read-only folder and a folder that is a file (tests/history/scenario.py)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from app_helpers import screen_text, wait_until

from tests.history.scenario import failing_night
from tui.app.app import MirrorApp
from tui.app.screens.run_detail import RunDetailScreen
from tui.config import Overrides, load_job


async def test_l_opens_the_last_runs_answer_at_80x24() -> None:
    # A short base, as a real mirror's (/mnt/mirror): pytest's tmp_path is 60 columns long.
    with tempfile.TemporaryDirectory(prefix="sm-", dir="/tmp") as base:
        await _answer_at_80x24(Path(base))


async def _answer_at_80x24(base: Path) -> None:
    cfg, _, dst = failing_night(base)
    job = load_job(cfg, "t", Overrides())
    app = MirrorApp(job, ["--config", str(cfg), "--job", "t"], hostname="h")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.caught_up, what="settle")
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(app.screen, RunDetailScreen)
                         and app.screen.loaded, what="the run detail")
        await pilot.pause()
        shown = screen_text(pilot)

    flat = " ".join(line.strip("│▌█▐ ") for line in shown.splitlines())
    assert "3 attempts" in flat
    assert "Why: 3 causes (each file once, rclone tried 3 times)" in flat
    assert "permission ×2: ro/" in flat and "io ×1: dirfile/x.txt: mkdir" in flat
    assert f"make the folders named writable by the runner (root) under {dst}" in flat
    assert "a path is a file at the destination where the source has a folder" in flat
    assert "Files (3): " in flat
    for name in ("ro/a.txt", "ro/b.txt", "dirfile/x.txt"):
        assert name in flat
    # The exit code's generic advice is not the answer.
    assert "Read the ERROR lines" not in flat


async def test_l_without_a_finished_run_says_so(tmp_path: Path) -> None:
    from app_helpers import make_job_dir

    jd = make_job_dir(tmp_path)
    app = MirrorApp(jd.job, jd.args, hostname="h")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.caught_up, what="settle")
        await pilot.press("l")
        await wait_until(pilot, lambda: any("no finished run" in str(n.message)
                                            for n in app._notifications), what="the notice")
        assert not isinstance(app.screen, RunDetailScreen)
