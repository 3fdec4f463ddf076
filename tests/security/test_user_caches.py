"""Issue 20, rows 3 and 3b: the history cache, triage reports and the demo's files live in
a folder of the user's own, made 0700, written through the safe-file layer; root refuses a
folder another user owns or can write (XDG_CACHE_HOME or HOME kept by `sudo -E`). The runner
writes no history cache at all.
"""

from __future__ import annotations

import os
from pathlib import Path

from textual.app import App

from tui.app.screens.run_detail import RunDetailScreen
from tui.core.history import scan_history

from .conftest import as_nobody, root_secret

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "history" / "mixed.log"


def nobodys_cache(reachable: Path) -> Path:
    """A folder nobody made and owns: what XDG_CACHE_HOME names under `sudo -E`."""
    home = reachable / "home"
    home.mkdir()
    home.chmod(0o777)
    cache = home / "cache"
    assert as_nobody("mkdir", "-m", "755", str(cache)).returncode == 0
    return cache


def root_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if p.lstat().st_uid == 0)


class DetailApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.run_record = scan_history(FIXTURE, use_cache=False).runs[-1]

    def on_mount(self) -> None:
        self.push_screen(RunDetailScreen(self.run_record))


async def test_row3_a_planted_report_name_never_gets_a_root_file_overwritten(
        reachable, monkeypatch) -> None:
    cache = nobodys_cache(reachable)
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    target = root_secret(reachable)
    app = DetailApp()
    reports = cache / "space-mirror" / "reports"
    planted = reports / f"space-mirror-{app.run_record.id}.txt"
    r = as_nobody("sh", "-c", f"mkdir -p {reports} && ln -s {target} {planted}")
    assert r.returncode == 0, r.stderr
    async with app.run_test() as pilot:
        await pilot.pause()
        detail = app.screen
        assert isinstance(detail, RunDetailScreen)
        await pilot.press("r")
        await pilot.pause()
        assert detail.report_path is None  # refused: the folder is nobody's
    assert target.read_text() == "root's precious content\n"
    assert root_files(cache) == []


async def test_row3_a_report_is_private(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    app = DetailApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        detail = app.screen
        assert isinstance(detail, RunDetailScreen)
        await pilot.press("r")
        await pilot.pause()
        assert detail.report_path is not None
        assert detail.report_path.stat().st_mode & 0o777 == 0o600
        assert detail.report_path.parent.stat().st_mode & 0o777 == 0o700


def test_row3_root_keeps_no_history_cache_in_another_users_folder(sec_job, reachable,
                                                                   run_cli) -> None:
    cache = nobodys_cache(reachable)
    job = sec_job()
    (job.source / "a").write_text("a")
    assert run_cli("--config", str(job.config), "run").returncode == 0
    r = run_cli("--config", str(job.config), "history", env={"XDG_CACHE_HOME": str(cache)})
    assert r.returncode == 0 and "success" in r.stdout, r.stderr
    assert root_files(cache) == []


def test_row3_the_demo_refuses_a_folder_another_user_controls(reachable, run_cli) -> None:
    cache = nobodys_cache(reachable)
    demo = cache / "space-mirror-demo"
    # nobody prepares the demo's folder, with a config whose failure hook is theirs
    marker = cache / "hook-ran-as-root"
    script = (f"mkdir -p {demo}/space && touch {demo}/space-mirror.log && "
              f"printf '[jobs.demo]\\nsource=\"{demo}/space\"\\ndestination=\"{demo}/m\"\\n"
              f"on_failure=\"touch {marker}\"\\n' > {demo}/config.toml")
    assert as_nobody("sh", "-c", script).returncode == 0
    r = run_cli("demo", "--print", env={"XDG_CACHE_HOME": str(cache)}, timeout=120)
    assert r.returncode == 78, (r.returncode, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and str(cache) in lines[0], lines
    assert not marker.exists() and root_files(cache) == []


def test_row3b_the_runner_writes_no_history_cache(sec_job, reachable, run_cli) -> None:
    """Even in a folder root owns (the caller is root, or HOME is root's): the cache is the
    dashboard's, not the runner's."""
    cache = reachable / "callers-cache"
    cache.mkdir(mode=0o700)
    job = sec_job()
    (job.source / "a").write_text("a")
    for _ in range(2):  # the second run reads a history that has a run in it
        r = run_cli("--config", str(job.config), "run", env={"XDG_CACHE_HOME": str(cache)})
        assert r.returncode == 0, r.stderr
    assert os.listdir(cache) == []


def test_row3b_the_runners_history_cache_is_its_own_state(sec_job, reachable,
                                                           run_cli) -> None:
    """The runner reads the history at the end of every run (persistent failures, delete
    debt): its cache lives beside the job's summary, a root-only folder, so a night does not
    scan years of logs whole, and no user's ~/.cache is touched."""
    job = sec_job()
    (job.source / "a").write_text("a")
    assert run_cli("--config", str(job.config), "run").returncode == 0
    folder = job.base / f".{job.name}.history"
    assert folder.is_dir() and (folder.stat().st_mode & 0o777) == 0o700
    assert folder.stat().st_uid == 0
    assert any(p.name.endswith(".runs.marshal") for p in folder.iterdir())
