"""Issue 22, small untruths on the dashboard, from real runs: the first log line said
`-- waiting for the log file to appear --` long after the file had appeared."""

from __future__ import annotations

from app_helpers import JobDir, cli_run, screen_text, wait_text, wait_until

from tui.app.app import MirrorApp
from tui.app.widgets.logview import LogView


async def test_waiting_note_goes_once_the_log_appears(job_dir: JobDir) -> None:
    assert not job_dir.job.log_file.exists()
    app = MirrorApp(job_dir.job, job_dir.args, hostname="h")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_text(pilot, "waiting for the log file to appear")
        proc = cli_run(job_dir)  # the runner creates the log
        try:
            await wait_until(pilot, lambda: any(
                "Starting Space Mirror" in t for t in app.query_one(LogView).visible_text()),
                timeout=30, what="the run's start marker in the log view")
            lines = app.query_one(LogView).visible_text()
            assert not any("waiting for the log file" in t for t in lines), lines[:3]
            assert "waiting for the log file" not in screen_text(pilot)
        finally:
            assert proc.wait(60) == 0


async def test_a_dry_run_never_hides_the_last_real_syncs_outcome(slow_job_dir: JobDir) -> None:
    """Issue 22, item 4, from real runs: a real sync aborted, then a dry run that succeeded.
    At 80x24 the state line said only `IDLE · LAST RUN SUCCEEDED (dry run)`."""
    import signal
    import subprocess
    import sys

    from app_helpers import REPO, wait_sync

    jd = slow_job_dir
    proc = cli_run(jd)
    wait_sync(lambda: jd.job.log_file.exists() and b"Copied (new)" in jd.job.log_file.read_bytes(),
              what="the real sync to copy a file")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 143
    dry = subprocess.run([sys.executable, "-m", "tui", *jd.args, "run", "--dry-run"],
                         cwd=REPO, capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    app = MirrorApp(jd.job, jd.args, hostname="h")
    async with app.run_test(size=(80, 24)) as pilot:
        shown = await wait_text(pilot, "DRY RUN SUCCEEDED · LAST SYNC ABORTED", timeout=20)
        assert "LAST RUN SUCCEEDED (dry run)" not in shown
    st = subprocess.run([sys.executable, "-m", "tui", *jd.args, "status"], cwd=REPO,
                        capture_output=True, text=True, timeout=60)
    line = st.stdout
    assert "last run success (dry run)" in line and "last real sync aborted" in line, line


async def test_a_file_failing_three_nights_shows_on_the_dashboard(tmp_path, monkeypatch) -> None:
    """Issue 22, item 5, from real runs: `locked/db.sqlite` unreadable three nights in a
    row (the runner without CAP_DAC_OVERRIDE). The dashboard says so in one line that
    names the key for the detail (`l`, which the footer drops at 80 columns), at 80x24 and
    at 120x40, beside the delete debt."""
    from tests.history.realruns import make_tree, write_config
    from tests.history.scenario import run_without_dac
    from tui.config import Overrides, load_job

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    src, dst, log = tmp_path / "src", tmp_path / "dst", tmp_path / "space-mirror.log"
    make_tree(src, {"keep.txt": 300, "locked/db.sqlite": 200, "gone.txt": 10})
    cfg = write_config(tmp_path, src, str(dst), log)
    locked = src / "locked" / "db.sqlite"
    for night in range(3):
        if night == 1:
            (src / "gone.txt").unlink()  # a delete owed: the debt line is there too
        locked.chmod(0o644)
        locked.write_bytes(f"night {night}\n".encode())
        locked.chmod(0)
        assert run_without_dac(cfg) != 0
    job = load_job(cfg, "t", Overrides())
    for size in ((80, 24), (120, 40)):
        app = MirrorApp(job, ["--config", str(cfg), "--job", "t"], hostname="h")
        async with app.run_test(size=size) as pilot:
            shown = await wait_text(pilot, "locked/db.sqlite failed 3 runs in a row",
                                    timeout=20)
            line = next(ln for ln in shown.splitlines() if "failed 3 runs in a row" in ln)
            assert "l for details" in line, (size, shown)  # the key, on the line itself
            assert "deletes skipped" in shown, (size, shown)


async def test_sixteen_transfers_use_the_room_there_is(tmp_path) -> None:
    """Issue 22, item 6, from a real run with --transfers 16: at 120x40 the in-flight box
    grows to show all 16 files (it stayed 4 rows, with no count, beside 26 empty log rows);
    at 100x30 it shows what fits and says `+N more`."""
    import os
    import re

    from app_helpers import make_job_dir, stop_runner, wait_sync

    from tui.app.widgets.inflight import InFlight
    from tui.config import Overrides, load_job

    jd = make_job_dir(tmp_path, files=0)
    for i in range(16):
        (jd.src / "a" / f"big{i:02d}.bin").write_bytes(os.urandom(1_000_000))
    text = jd.config.read_text().replace('flags = ["--transfers", "2"]',
                                         'flags = ["--transfers", "16"]')
    jd.config.write_text(text + 'bwlimit = "1M"\n')
    jd.job = load_job(jd.config, "t", Overrides())
    proc = cli_run(jd)
    try:
        wait_sync(lambda: jd.job.log_file.exists()
                  and b'"transferring"' in jd.job.log_file.read_bytes(), timeout=30,
                  what="rclone's first stats with files in flight")
        for size, rows in (((120, 40), 16), ((100, 30), 10)):
            app = MirrorApp(jd.job, jd.args, hostname="h")
            async with app.run_test(size=size) as pilot:
                box = app.dashboard.query_one(InFlight)
                await wait_until(pilot, lambda b=box: len(b._transfers) == 16, timeout=20,
                                 what="16 files in flight")
                await wait_until(pilot, lambda b=box, r=rows: b.size.height == r, timeout=5,
                                 what=f"{rows} rows of files in flight")
                await pilot.pause()
                shown = screen_text(pilot)
                names = set(re.findall(r"big\d\d\.bin", shown))
                if rows >= 16:
                    assert len(names) == 16 and "more" not in shown, shown
                else:
                    assert len(names) == rows - 1, shown
                    assert f"+{16 - (rows - 1)} more" in shown, shown
    finally:
        stop_runner(jd.job)
        proc.wait(30)
