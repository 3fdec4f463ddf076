"""Issue 21 item 5: a long last run is attached to at disk speed. Its body is summed by the
history scanner and only its tail is folded, and the state that comes out is the one a
line-by-line fold of the whole run gives. While the replay goes on the screen gets no
state at all (it says READING LOG), never the figures of a half-read run."""

from __future__ import annotations

from pathlib import Path

from app_helpers import wait_until

from tui.app.app import MirrorApp
from tui.app.feed import Feed
from tui.config import Overrides, load_job
from tui.core.history.replay import REPLAY_TAIL_BYTES

SHAPES = Path(__file__).resolve().parents[1] / "fixtures" / "shapes"


def _long_failed_night(fmt: str, size: int) -> bytes:
    """The recorded failing night (shapes/wrapper-<fmt>: an I/O error, deletes skipped), its
    body grown with the recorded first night's per-file lines, and recorded error lines
    spread through it, until it is `size` bytes."""
    data = (SHAPES / f"wrapper-{fmt}" / "space-mirror.log").read_bytes()
    lines = data.splitlines(keepends=True)
    starts = [i for i, ln in enumerate(lines) if b"Starting Space Mirror" in ln]
    first, failing = lines[starts[0]:starts[1]], lines[starts[2]:]
    copied = b"".join(ln for ln in first if b"Copied (" in ln)
    error = next(ln for ln in failing if b"Failed to copy" in ln)
    unit = copied * 50 + error
    body = unit * (size // len(unit))
    return failing[0] + failing[1] + body + b"".join(failing[2:])


def _full_fold(run: bytes) -> Feed:
    feed = Feed(5000)
    assert run.endswith(b"\n")
    lines = run.split(b"\n")[:-1]  # as the follower hands them over
    for i in range(0, len(lines), 5000):
        feed.feed([ln for ln in lines[i:i + 5000]])
    return feed


async def _attach(tmp_path: Path, fmt: str) -> None:
    run = _long_failed_night(fmt, 24 * 1024 * 1024)
    assert len(run) > 10 * REPLAY_TAIL_BYTES
    log = tmp_path / "space-mirror.log"
    log.write_bytes(b"junk before the run\n" + run)
    (tmp_path / "src").mkdir()
    cfg = tmp_path / "t.toml"
    cfg.write_text(f'[jobs.t]\nsource = "{tmp_path / "src"}"\n'
                   f'destination = "{tmp_path / "dst"}"\nlog_file = "{log}"\n'
                   f'lock_file = "{tmp_path / "t.lock"}"\nrequire_mount = false\n')
    app = MirrorApp(load_job(cfg, "t", Overrides()), ["--config", str(cfg)], hostname="h")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.caught_up, what="the replay", timeout=60)
        got = app.run_state
        updates = app.state_updates
    want = _full_fold(run).state
    assert got.lines > 100_000
    for name in ("phase", "outcome", "exit_code", "run_id", "started", "ended", "copied",
                 "deleted", "renamed", "error_lines", "deletes_skipped_for_io_errors",
                 "lines", "stats"):
        assert getattr(got, name) == getattr(want, name), name
    assert got.error_lines > 10 and got.deletes_skipped_for_io_errors
    # One state for the whole replay: the final one (a line-by-line replay posted ~10 a
    # second, each the figures of wherever it had got to).
    assert updates == 1


async def test_a_long_text_run_is_attached_to_by_its_tail(tmp_path: Path) -> None:
    await _attach(tmp_path, "text")


async def test_a_long_json_run_is_attached_to_by_its_tail(tmp_path: Path) -> None:
    await _attach(tmp_path, "json")
