"""Faults seen through the dashboard (Pilot): tiny terminals and a storm of resizes (7),
hostile lines on screen (6), two dashboards and a dashboard racing the CLI (3)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import psutil
import pytest

from tests.app.app_helpers import (
    JobDir,
    cli_run,
    make_job_dir,
    screen_text,
    stop_runner,
    wait_sync,
    wait_text,
    wait_until,
)
from tui.app.app import MirrorApp
from tui.app.keys import HELP
from tui.app.screens.dialogs import HelpScreen
from tui.app.screens.history import HistoryScreen
from tui.core.markers import MarkerKind, format_end, format_start, now
from tui.ops import lock

CONTROL = {chr(c) for c in (*range(0, 9), *range(11, 32), 127)}


def _app(jd: JobDir, **kw: object) -> MirrorApp:
    return MirrorApp(jd.job, jd.args, hostname="testhost", **kw)  # type: ignore[arg-type]


def _rclones(src: Path) -> int:
    n = 0
    for proc in psutil.process_iter(["cmdline"]):
        cmd = proc.info.get("cmdline") or []
        if cmd and cmd[0].endswith("rclone") and "sync" in cmd and str(src) in cmd:
            n += 1
    return n


@pytest.mark.parametrize("size", [(40, 10), (1, 1), (200, 60), (60, 20)])
async def test_sizes_show_state_and_abort_key(tmp_path: Path, size: tuple[int, int]) -> None:
    jd = make_job_dir(tmp_path, files=4, size=300_000, bwlimit="200k")
    runner = cli_run(jd)
    try:
        wait_sync(lambda: (lock.read_holder(jd.job.lock_path) or None) is not None
                  and (lock.read_holder(jd.job.lock_path) or lock.LockRecord(
                      0, "", "", "", "", "")).rclone_pid is not None, 30, "the run")
        app = _app(jd)
        async with app.run_test(size=size) as pilot:
            await wait_until(pilot, lambda: app.run_state.running or app.running is not None,
                             20, "the dashboard to see the run")
            if size[0] >= 40:
                # The state word and the abort key (the Footer's "a Abort", or the state
                # line's "a=abort" where the Footer is cut short), at every usable size.
                def state_and_key() -> bool:
                    shown = screen_text(pilot)
                    return "RUNNING" in shown and ("a Abort" in shown or "a=abort" in shown)

                await wait_until(pilot, state_and_key, 20, "the state and the abort key")
            else:
                await pilot.pause()  # 1x1: nothing to read, but nothing may crash
    finally:
        stop_runner(jd.job)
        runner.wait(30)


async def test_resize_storm_while_streaming(tmp_path: Path) -> None:
    jd = make_job_dir(tmp_path)
    log = jd.job.log_file
    with open(log, "w") as fh:
        fh.write(format_start("storm", "t", "sync", 1, now()) + "\n")
    app = _app(jd)
    rng = random.Random(7)
    async with app.run_test(size=(80, 24)) as pilot:
        for i in range(60):
            with open(log, "a") as fh:
                for j in range(200):
                    rec = {"time": "2026-11-25T03:00:01Z", "level": "info",
                           "msg": "Copied (new)", "object": f"d{i}/[bold]f{j}[/bold].txt"}
                    fh.write(json.dumps(rec) + "\n")
            await pilot.resize_terminal(rng.choice([1, 2, 20, 40, 80, 133, 200]),
                                        rng.choice([1, 3, 10, 24, 60]))
            await pilot.pause(0.01)
        await pilot.resize_terminal(80, 24)
        await wait_until(pilot, lambda: app.run_state.copied == 60 * 200, 20, "every line")
        await pilot.press("question_mark")  # still answering keys after the storm
        await wait_text(pilot, "abort")


async def test_hostile_lines_reach_the_screen_as_plain_text(tmp_path: Path) -> None:
    jd = make_job_dir(tmp_path)
    esc_names = ["\x1b]0;pwned\x1b\\t.txt", "\x1b[2J\x1b[Hclear.txt", "close[/bold]tag.txt",
                 "[link=http://x]l[/link].txt", "bell\x07.txt"]
    with open(jd.job.log_file, "wb") as fh:
        fh.write(format_start("hostile", "t", "sync", 1, now()).encode() + b"\n")
        # The huge line first: a last run over 1 MiB is replayed from its last MiB (issue
        # 21), and the hostile names must be among what the screen shows.
        fh.write(b"y" * (2 * 1024 * 1024) + b"\n")
        for name in esc_names:
            rec = {"time": "2026-11-25T03:00:01Z", "level": "error", "msg": "Failed to copy",
                   "object": name}
            fh.write(json.dumps(rec).encode() + b"\n")
        fh.write(b"\xff\xfe\x00 binary \x1b[31m junk\n" * 20)
        counters = {"bytes": "0", "transfers": "0", "checks": "0", "deletes": "0",
                    "renames": "0", "errors": "5", "elapsed": "1"}
        fh.write(format_end(MarkerKind.FAILED, "hostile", 1, now(), counters, "x").encode()
                 + b"\n")
    app = _app(jd)
    async with app.run_test(size=(120, 40)) as pilot:
        shown = await wait_text(pilot, "close[/bold]tag.txt", "LAST RUN FAILED")
        assert "[link=http://x]l[/link].txt" in shown
        assert not (set(shown) & CONTROL), "a control character reached the screen"
        assert "\x1b" not in app.export_screenshot()


@pytest.mark.slow
async def test_dashboard_start_races_the_cli(tmp_path: Path) -> None:
    jd = make_job_dir(tmp_path, files=6, size=300_000, bwlimit="400k")
    runner = cli_run(jd)
    try:
        wait_sync(lambda: lock.read_holder(jd.job.lock_path) is not None, 30, "the CLI run")
        app = _app(jd)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: app.running is not None or app.run_state.running,
                             20, "the dashboard to see the CLI's run")
            await pilot.press("s")
            # The dashboard sees the run and refuses to start a second one, and says so.
            await wait_until(pilot, lambda: any("already running" in n.message
                                                for n in app._notifications), 10,
                             "the 'already running' answer")
            assert _rclones(jd.src) <= 1
            await wait_text(pilot, "RUNNING")
    finally:
        stop_runner(jd.job)
        runner.wait(30)
    assert jd.job.log_file.read_text().count("Starting Space Mirror...") == 1


@pytest.mark.slow
async def test_two_dashboards_press_start(tmp_path: Path) -> None:
    jd = make_job_dir(tmp_path, files=6, size=300_000, bwlimit="400k")
    first, second = _app(jd), _app(jd)
    try:
        async with first.run_test(size=(100, 30)) as p1, second.run_test(size=(100, 30)) as p2:
            await p1.press("s")
            await p2.press("s")
            await wait_until(p1, lambda: lock.read_holder(jd.job.lock_path) is not None,
                             30, "a run")
            seen = 0

            def settled() -> bool:
                nonlocal seen
                seen = max(seen, _rclones(jd.src))
                told = [n.message for a in (first, second) for n in a._notifications]
                shown = screen_text(p1) + screen_text(p2)
                return "already running" in shown + " ".join(told)

            await wait_until(p2, settled, 30, "one dashboard to be told 'already running'")

            def started() -> bool:  # the winner is past its pre-flight, rclone under way
                nonlocal seen
                seen = max(seen, _rclones(jd.src))
                log = jd.job.log_file
                return log.exists() and "Starting Space Mirror..." in log.read_text()

            await wait_until(p1, started, 30, "the winning run's start marker")
            assert seen <= 1
    finally:
        stop_runner(jd.job)
    assert jd.job.log_file.read_text().count("Starting Space Mirror...") == 1


async def test_canaries_never_on_screen(tmp_path: Path) -> None:
    """Fault 8, screen side: credentials in the env file, a pre-flight that fails against a
    dead endpoint (so the panel shows rclone's own error text), and every screen exported."""
    from tests.reliability.conftest import free_port

    key_id, secret = "CANARY-S3-KEYID-40d2", "CANARY-S3-SECRET-bb71"
    jd = make_job_dir(tmp_path)
    env_file = tmp_path / "creds.env"
    env_file.write_text(f"RCLONE_S3_PROVIDER=Other\n"
                        f"RCLONE_S3_ENDPOINT=http://127.0.0.1:{free_port()}\n"
                        f"RCLONE_S3_ACCESS_KEY_ID={key_id}\nRCLONE_S3_SECRET_ACCESS_KEY={secret}\n")
    env_file.chmod(0o600)
    config = jd.config.read_text().replace(
        f'destination = "{jd.dst}"', 'destination = ":s3:bucket"')
    config = config.replace("env = {}", f'env = {{}}\nenv_file = "{env_file}"\nremote_timeout = 5')
    jd.config.write_text(config)
    from tui.config import Overrides, load_job

    job = load_job(jd.config, "t", Overrides())
    app = MirrorApp(job, jd.args, hostname="testhost")
    pictures: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        dashboard = app.screen
        await pilot.press("s")
        await wait_text(pilot, "destination", "connection refused", timeout=30)
        pictures.append(app.export_screenshot())
        # Each key, then a sign that its screen is up and painted, then the picture.
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), 10, "the help")
        await wait_text(pilot, HELP.help)  # the help's own line for ?
        pictures.append(app.export_screenshot())
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is dashboard, 10, "the dashboard again")
        await wait_text(pilot, "connection refused")  # the pre-flight panel, still up
        pictures.append(app.export_screenshot())
        await pilot.press("h")
        await wait_until(pilot, lambda: isinstance(app.screen, HistoryScreen)
                         and app.screen.history is not None, 10, "the history, loaded")
        await wait_text(pilot, "No runs in the log yet.")
        pictures.append(app.export_screenshot())
    for picture in pictures:
        assert key_id not in picture and secret not in picture
