"""One engine, one truth (issue 18): from the same real runs, every surface tells the same
facts. The runs, with the bundled rclone on local folders:

  1. a success;
  2-4. three failures of the same 3 files (the sources unreadable: the runner runs without
       the capabilities that bypass file permissions), with a file removed from the source;
  5. a stall, stopped by the watchdog (exit 79);
  6. an operator's abort that leaves partial files (rclone cannot remove them: their folder
     was made immutable under it);
  7. a soft cutoff at the job's window_end (exit 10);
  8. a dry run.

After each, these agree fact by fact: `status --json`, `history --json`, the overview's row,
the dashboard's header (rendered), the summary file and the metrics file. The facts: the
outcome, stalled, the files failing run after run with their runs in a row, the delete
debt, the partial files left, and the last good mirror's age.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.history.realruns import REPO, _base_env, make_tree, runner_argv, write_config
from tests.history.scenario import run_without_dac

pytestmark = pytest.mark.slow

LOCKED = ("lock/a.bin", "lock/b.bin", "lock/c.bin")
BIG = tuple(f"big/{i}.bin" for i in range(4))
DEADLINE = 60.0


@dataclass
class Facts:
    outcome: str | None
    stalled: bool
    persistent: list[tuple[str, int]]
    debt: int
    partials: int | None
    last_good: float | None


@dataclass
class Scene:
    cfg: Path
    src: Path
    dst: Path
    log: Path
    base: Path


CACHE: list[str] = []  # the scene's own history cache (never the real ~/.cache)


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    return _base_env({"XDG_CACHE_HOME": CACHE[0], **(extra or {})})


def _cli(scene: Scene, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui", "--config", str(scene.cfg), *argv],
                          capture_output=True, text=True, cwd=REPO, env=_env(),
                          timeout=DEADLINE)


def _rclone_of(runner: subprocess.Popen[bytes]) -> psutil.Process:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        try:
            for child in psutil.Process(runner.pid).children(recursive=True):
                if Path(child.exe()).name == "rclone" and "sync" in child.cmdline():
                    return child
        except psutil.Error:
            pass
        assert runner.poll() is None, "the runner ended before rclone started"
        time.sleep(0.05)
    raise AssertionError("rclone did not start")


def _wait_copying(scene: Scene, files: int = 1) -> None:
    """Until rclone has written data into `files` partial files: transfers are in flight."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        writing = 0
        for p in scene.dst.rglob("*.partial"):
            try:
                writing += p.stat().st_size > 0
            except FileNotFoundError:  # renamed into place or removed since the listing
                pass
        if writing >= files:
            return
        time.sleep(0.05)
    raise AssertionError(f"fewer than {files} transfers started")


def _rewrite_big(scene: Scene, seed: int) -> None:
    for name in BIG:
        (scene.src / name).write_bytes(os.urandom(16) * (1_500_000 // 16) + bytes([seed]))


def _start(scene: Scene, extra: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(runner_argv(scene.cfg), cwd=REPO, env=_env(extra),
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


# -- the surfaces -------------------------------------------------------------------------
def _parse_time(text: str | None) -> float | None:
    return None if text is None else datetime.fromisoformat(text).timestamp()


def from_status(scene: Scene) -> Facts:
    out = _cli(scene, "status", "--json")
    d = json.loads(out.stdout)
    lr = d["last_run"] or {}
    return Facts(lr.get("outcome"), d["stalled"],
                 [(p["path"], p["runs_in_a_row"]) for p in d["persistent_failures"] or ()],
                 d["deletes_skipped_runs"], lr.get("partials_left"), d["last_success"])


def from_history(scene: Scene) -> Facts:
    out = _cli(scene, "history", "--json")
    d = json.loads(out.stdout)
    runs, p = d["runs"], d["persistent"]
    last = runs[-1] if runs else None  # oldest first
    good = [r for r in runs if r["outcome"] == "success" and not r["dry_run"]]
    return Facts(last["outcome"] if last else None,
                 bool(last and last["exit_code"] == 79),
                 [(f["path"], f["runs_in_a_row"]) for f in p["files"] if f["runs_in_a_row"] > 1],
                 p["deletes_skipped_runs"], None,
                 _parse_time(good[-1]["ended"]) if good else None)


def from_summary(scene: Scene) -> Facts:
    d = json.loads(scene.cfg.with_suffix(".json").read_text())
    return Facts(d["outcome"], d["stalled"], [("*", d["persistent_failed_files"])],
                 d["deletes_skipped_runs"], d.get("partials_left"), d["last_success_ended"])


def from_metrics(scene: Scene) -> dict[str, float]:
    text = scene.cfg.with_suffix(".prom").read_text()
    return {s.name: s.value for fam in text_string_to_metric_families(text)
            for s in fam.samples}


def from_overview(scene: Scene) -> tuple[str, ...]:
    from tui.app.screens.overview import _Watch, row_cells
    from tui.config import Overrides, load_job
    from tui.ops import processes

    job = load_job(scene.cfg, "t", Overrides())
    watch = _Watch(job)
    try:
        now = datetime.now(UTC)
        return row_cells(watch.look(processes.find_running, now), now, None)
    finally:
        watch.follower.close()


async def from_dashboard(scene: Scene) -> str:
    from tests.app.app_helpers import screen_text, wait_until
    from tui.app.app import MirrorApp
    from tui.config import Overrides, load_job

    job = load_job(scene.cfg, "t", Overrides())
    app = MirrorApp(job, ["--config", str(scene.cfg), "--job", "t"], hostname="h")
    async with app.run_test(size=(220, 50)) as pilot:
        await wait_until(pilot, lambda: "last good mirror" in screen_text(pilot), 20,
                         "the header's last good mirror")
        await wait_until(pilot, lambda: "READING" not in screen_text(pilot), 20,
                         "the history read")
        await pilot.pause(0.3)
        return screen_text(pilot)


def _age_seconds(text: str) -> float:
    m = re.search(r"(\d+(?:\.\d+)?) (s|min|h)\b", text)
    assert m is not None, text
    return float(m[1]) * {"s": 1, "min": 60, "h": 3600}[m[2]]


def agree(scene: Scene, outcome: str, real_outcome: str, stalled: bool, streak: int,
          debt: int, partials: int | None, dashboard: str | None = None,
          owed: bool = True) -> None:
    """Every surface against the same expectations (and so against each other). `owed`:
    no dry run since has found that no delete is due."""
    persistent = [(p, streak) for p in LOCKED] if streak > 1 else []
    status, history, summary = from_status(scene), from_history(scene), from_summary(scene)
    metrics = from_metrics(scene)
    last_good = status.last_good
    assert last_good is not None
    for name, got in (("status", status), ("history", history), ("summary", summary)):
        assert got.outcome == outcome, name
        assert got.stalled == stalled, name
        assert got.debt == debt, name
        if name == "summary":
            assert got.persistent == [("*", len(persistent))], name
        else:
            assert sorted(got.persistent) == persistent, name
        assert got.last_good is not None and abs(got.last_good - last_good) < 2, name
    assert status.partials == partials and summary.partials == partials
    # The textfile is a real sync's: a dry run leaves it as it was.
    assert metrics["space_mirror_last_run_success"] == (real_outcome == "success")
    assert metrics["space_mirror_stalled"] == stalled
    assert metrics["space_mirror_persistent_failed_files"] == len(persistent)
    assert metrics["space_mirror_deletes_skipped_runs"] == debt
    assert metrics.get("space_mirror_last_run_partial_files") == (
        None if real_outcome != outcome or partials is None else partials)
    assert abs(metrics["space_mirror_last_success_timestamp_seconds"] - last_good) < 2
    # The overview's row: the last good mirror's age and what needs the operator.
    cells = from_overview(scene)
    good, needs = cells[3], cells[4]  # Job, State, Done, Last good, Needs you, …
    assert abs(_age_seconds(good) - (time.time() - last_good)) < 5, good
    assert ("stalled" in needs) == stalled, needs
    assert (f"3 files fail {streak} runs in a row" in needs) == bool(persistent), needs
    assert (f"deletes skipped {debt} runs" in needs) == (debt >= 2 and owed), needs
    assert (f"{partials} partial files left" in needs) == bool(partials), needs
    if dashboard is not None:
        header = re.search(r"last good mirror ([^·│\n]+) ago", dashboard)
        assert header is not None, dashboard
        assert abs(_age_seconds(header[1]) - (time.time() - last_good)) < 10
        assert (f"failed {streak} runs in a row (and 2 more)" in dashboard) == bool(persistent)
        assert (f"deletes skipped {debt} runs in a row" in dashboard) == (debt >= 2 and owed)


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    base = tmp_path_factory.mktemp("truth")
    src, dst, log = base / "src", base / "dst", base / "space-mirror.log"
    make_tree(src, {"keep/k0.txt": 300, "keep/k1.txt": 300, **{p: 200 for p in LOCKED},
                    **{p: 1000 for p in BIG}})
    CACHE[:] = [str(base / "cache")]
    cfg = write_config(base, src, str(dst), log)
    cfg.write_text(cfg.read_text().replace("abort_grace = 5.0", "abort_grace = 2.0")
                   + "stall_timeout = 3\nremote_timeout = 2\n")
    yield Scene(cfg, src, dst, log, base)


def test_every_surface_tells_the_same_facts(scene: Scene) -> None:
    import asyncio

    # 1. a success
    assert subprocess.run(runner_argv(scene.cfg), cwd=REPO, env=_env(),
                          capture_output=True, timeout=DEADLINE).returncode == 0
    agree(scene, "success", "success", False, 0, 0, None)

    # 2-4. the same 3 files fail three nights in a row; a file is gone from the source
    (scene.src / "keep/k0.txt").unlink()
    for night in range(3):
        for name in LOCKED:
            path = scene.src / name
            path.chmod(0o644)
            path.write_bytes(f"night {night}\n".encode())
            path.chmod(0)
        assert run_without_dac(scene.cfg) != 0
        streak = night + 1
        agree(scene, "failed", "failed", False, streak, streak, None)
    dashboard = asyncio.run(from_dashboard(scene))
    agree(scene, "failed", "failed", False, 3, 3, None, dashboard)

    # 5. a stall: rclone stopped mid-transfer; the watchdog stops the run (exit 79).
    _rewrite_big(scene, 5)
    runner = _start(scene, {"RCLONE_BWLIMIT": "300k"})
    try:
        rclone = _rclone_of(runner)
        _wait_copying(scene)
        rclone.suspend()
        assert runner.wait(timeout=DEADLINE) == 79
    finally:
        if runner.poll() is None:
            runner.kill()
    left = len([p for p in scene.dst.rglob("*.partial")])
    agree(scene, "failed", "failed", True, 3, 3, left)

    # 6. an operator's abort; rclone 1.75 removes its partial files on SIGTERM, unless it
    # cannot: their folder is made immutable while rclone writes (chattr +i), so they stay.
    _rewrite_big(scene, 6)
    runner = _start(scene, {"RCLONE_BWLIMIT": "300k"})
    folder = scene.dst / "big"
    try:
        _rclone_of(runner)
        _wait_copying(scene)
        subprocess.run(["chattr", "+i", str(folder)], check=True)
        runner.send_signal(signal.SIGTERM)
        assert runner.wait(timeout=DEADLINE) == 143
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)
        if runner.poll() is None:
            runner.kill()
    left = len([p for p in scene.dst.rglob("*.partial")])
    assert left >= 1, "the scene needs an abort that leaves partial files"
    agree(scene, "aborted", "aborted", False, 3, 3, left)

    # 7. a soft cutoff: window_end a few seconds after the run starts (exit 10). The zone is
    # chosen so that the local clock's next minute is ~6 s away, whatever the time now.
    _rewrite_big(scene, 7)
    now = datetime.now(UTC)
    shift = (60 - now.second - 6) % 60  # seconds east of UTC
    local = now + timedelta(seconds=shift)
    window = (local + timedelta(seconds=60 - local.second)).strftime("%H:%M")
    text = scene.cfg.read_text()
    scene.cfg.write_text(text + f'window_end = "{window}"\n')
    try:
        runner = _start(scene, {"RCLONE_BWLIMIT": "300k", "TZ": f"XXX-00:00:{shift:02d}"})
        try:
            assert runner.wait(timeout=DEADLINE) == 10
        finally:
            if runner.poll() is None:
                runner.kill()
    finally:
        scene.cfg.write_text(text)
    # Its reason is the window, not an error class it met on the way (it led with
    # `not-found ×1 (… Failed to update directory timestamp …)`).
    end = [ln for ln in scene.log.read_text().splitlines() if "FAILED with exit code 10" in ln]
    assert end and f'reason="window_end {window} reached: rclone started no new transfer' \
        in end[-1], end
    # The cutoff lets the transfers in flight finish and still runs the deletes due: when it
    # deleted the file gone from the source, the delete debt is paid (the mirror says).
    debt = 3 if (scene.dst / "keep/k0.txt").exists() else 0
    agree(scene, "failed", "failed", False, 3, debt, None)

    # 8. a dry run: its own outcome, and nothing else moves; it knows what deletes are due.
    assert subprocess.run(runner_argv(scene.cfg, "--dry-run"), cwd=REPO, env=_env(),
                          capture_output=True, timeout=DEADLINE).returncode == 0
    dashboard = asyncio.run(from_dashboard(scene))
    owed = (scene.dst / "keep/k0.txt").exists()
    agree(scene, "success", "failed", False, 3, debt, None, dashboard, owed=owed)


# -- each contradiction issue 18 found, on the code before it --------------------------------
def test_one_failure_after_a_success_is_no_persistent_failure(tmp_path: Path) -> None:
    """`status` said `5 files fail run after run` after one success and one failure, while
    `history --json` gave each of those files `runs_in_a_row: 1`."""
    CACHE[:] = [str(tmp_path / "cache")]
    src, dst, log = tmp_path / "src", tmp_path / "dst", tmp_path / "space-mirror.log"
    make_tree(src, {"ok.txt": 100, **{f"bad/{i}.bin": 50 for i in range(5)}})
    cfg = write_config(tmp_path, src, str(dst), log)
    scene = Scene(cfg, src, dst, log, tmp_path)
    assert subprocess.run(runner_argv(cfg), cwd=REPO, env=_env(),
                          capture_output=True, timeout=DEADLINE).returncode == 0
    for i in range(5):
        path = src / f"bad/{i}.bin"
        path.write_bytes(b"changed\n")
        path.chmod(0)
    assert run_without_dac(cfg) != 0
    status = json.loads(_cli(scene, "status", "--json").stdout)
    history = json.loads(_cli(scene, "history", "--json").stdout)
    assert [f["runs_in_a_row"] for f in history["persistent"]["files"]] == [1] * 5
    assert status["persistent_failed_files"] == 0 and status["persistent_failures"] == []
    assert not any("run after run" in r for r in status["reasons"]), status["reasons"]
    summary = json.loads(cfg.with_suffix(".json").read_text())
    assert summary["persistent_failed_files"] == 0


def test_a_rerun_after_an_interrupted_transfer_has_no_failed_attempt(tmp_path: Path) -> None:
    """Partial files were handled in two places at once: rclone 1.75 removes a stale partial
    file when it uploads its file again, while the sync deletes it as extraneous, so every
    re-run's first attempt failed (`Couldn't delete … no such file or directory`) and
    recovered only through --retries. The engine now removes them first, and says so."""
    CACHE[:] = [str(tmp_path / "cache")]
    src, dst, log = tmp_path / "src", tmp_path / "dst", tmp_path / "space-mirror.log"
    make_tree(src, {f"f{i}.bin": 1000 for i in range(4)})
    for i in range(4):
        (src / f"f{i}.bin").write_bytes(os.urandom(1_500_000))
    cfg = write_config(tmp_path, src, str(dst), log)
    scene = Scene(cfg, src, dst, log, tmp_path)
    runner = _start(scene, {"RCLONE_BWLIMIT": "300k"})
    try:
        rclone = _rclone_of(runner)
        _wait_copying(scene)
        runner.kill()  # the runner first: it must not live to see rclone die
        runner.wait(timeout=DEADLINE)
        rclone.kill()
        rclone.wait(timeout=DEADLINE)
    finally:
        if runner.poll() is None:
            runner.kill()
    left = sorted(p.name for p in dst.rglob("*.partial"))
    assert left, "the scene needs partial files left behind"
    since = log.stat().st_size
    out = subprocess.run(runner_argv(cfg), cwd=REPO, env=_env(), capture_output=True,
                         text=True, timeout=DEADLINE)
    assert out.returncode == 0, out.stderr
    rerun = log.read_bytes()[since:].decode()
    assert "Couldn't delete" not in rerun and "Attempt 1/" not in rerun, rerun[-2000:]
    assert f"removed {len(left)} partial file" in out.stdout
    assert f"partials_removed={len(left)}" in rerun
    assert not list(dst.rglob("*.partial"))


def test_plan_allows_only_for_partial_files_really_there(tmp_path: Path) -> None:
    """After an abort whose rclone removed its partial files, the plan's guard said
    `+ 4 for partial files left by 1 interrupted run` though `find` found none."""
    CACHE[:] = [str(tmp_path / "cache")]
    src, dst, log = tmp_path / "src", tmp_path / "dst", tmp_path / "space-mirror.log"
    make_tree(src, {f"f{i}.bin": 1000 for i in range(4)})
    for i in range(4):
        (src / f"f{i}.bin").write_bytes(os.urandom(1_500_000))
    cfg = write_config(tmp_path, src, str(dst), log)
    scene = Scene(cfg, src, dst, log, tmp_path)
    runner = _start(scene, {"RCLONE_BWLIMIT": "300k"})
    try:
        _rclone_of(runner)
        # Every transfer writing: rclone 1.75 registers the clean-up of a partial file as
        # its transfer starts, so a SIGTERM during a transfer's first moments (CI saw 2 of
        # 4) leaves that file behind. Such a leftover is the other test's scene, not this.
        _wait_copying(scene, files=4)
        runner.send_signal(signal.SIGTERM)
        assert runner.wait(timeout=DEADLINE) == 143
    finally:
        if runner.poll() is None:
            runner.kill()
    assert not list(dst.rglob("*.partial"))  # rclone 1.75 removed them on SIGTERM
    plan = _cli(scene, "plan", "--offline").stdout
    assert "delete guard:" in plan and "partial" not in plan, plan
    summary = json.loads(cfg.with_suffix(".json").read_text())
    assert summary["interrupted_since_success"] == 1 and summary["partials_left"] == 0
