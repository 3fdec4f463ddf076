"""The plan says what a delete means on a B2 destination: with hard delete it is
permanent; without, the file is hidden and its last version kept until a lifecycle rule
removes it. CLI text and JSON, and the plan screen, each from a real dry run on the shim."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sm_testkit import JobFiles
from textual.app import App
from textual.widgets import Static

from tests.b2.shim import B2Shim
from tui.app.screens.plan import PlanScreen
from tui.config import load_job

Run = Callable[..., subprocess.CompletedProcess[str]]


def mirrored(b2_job: Callable[..., JobFiles], make_tree: Callable[..., Path], run_cli: Run,
             **keys: object) -> JobFiles:
    job = b2_job(**keys)
    make_tree(job.source, {"keep.txt": 10, "old/gone.txt": 20})
    assert run_cli("--config", str(job.config), "run").returncode == 0
    (job.source / "old/gone.txt").unlink()
    return job


def test_plan_json_and_text_say_a_hard_delete_is_permanent(
        b2: B2Shim, b2_job: Callable[..., JobFiles], make_tree: Callable[..., Path],
        run_cli: Run) -> None:
    job = mirrored(b2_job, make_tree, run_cli)
    r = run_cli("--config", str(job.config), "plan", "--json")
    assert r.returncode == 0, r.stderr
    delete = json.loads(r.stdout)["delete"]
    assert delete["files"] == ["old/gone.txt"]
    assert delete["meaning"].startswith("B2 with hard delete: each delete is permanent")
    text = run_cli("--config", str(job.config), "plan").stdout
    assert "deletes: B2 with hard delete: each delete is permanent" in text


def test_plan_without_hard_delete_says_the_version_is_kept(
        b2: B2Shim, b2_job: Callable[..., JobFiles], make_tree: Callable[..., Path],
        run_cli: Run) -> None:
    job = mirrored(b2_job, make_tree, run_cli, env={"RCLONE_B2_HARD_DELETE": "false"})
    r = run_cli("--config", str(job.config), "plan", "--json")
    meaning = json.loads(r.stdout)["delete"]["meaning"]
    assert "hides the file" in meaning and "until the bucket's lifecycle rule" in meaning


def test_a_local_plan_keeps_its_json_shape(job_config: Callable[..., JobFiles],
                                           make_tree: Callable[..., Path], run_cli: Run) -> None:
    job = job_config()
    make_tree(job.source, {"a": 1})
    r = run_cli("--config", str(job.config), "plan", "--json")
    assert r.returncode == 0, r.stderr
    assert set(json.loads(r.stdout)["delete"]) == {"count", "bytes", "files"}


class Host(App[None]):
    def __init__(self, screen: PlanScreen) -> None:
        super().__init__()
        self._screen = screen

    def on_mount(self) -> None:
        self.push_screen(self._screen)


async def test_plan_screen_shows_the_delete_meaning(
        b2: B2Shim, b2_job: Callable[..., JobFiles], make_tree: Callable[..., Path],
        run_cli: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    job_files = mirrored(b2_job, make_tree, run_cli)
    (tmp_path / "rclone.conf").touch()  # the dry run runs in this process: no real config
    monkeypatch.setenv("RCLONE_CONFIG", str(tmp_path / "rclone.conf"))
    job = load_job(job_files.config, job_files.name)
    screen = PlanScreen(job, ["--config", str(job_files.config)])
    app = Host(screen)
    async with app.run_test(size=(120, 30)) as pilot:
        end = time.monotonic() + 60
        while screen.plan is None and not screen.problems:
            assert time.monotonic() < end, "timed out waiting for the plan"
            await pilot.pause(0.05)
        assert not screen.problems, screen.problems
        await pilot.pause(0.1)
        line = screen.query_one("#plan-delete-meaning", Static)
        assert "each delete is permanent" in str(line.render())
