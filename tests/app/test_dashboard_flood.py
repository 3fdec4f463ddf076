"""A flood of log lines: every line is counted, redraws stay at ~10/s, keys stay responsive.

The lines are real ones recorded from rclone (tests/snapshots/logs/aborted.log), repeated.
"""

from __future__ import annotations

import time
from pathlib import Path

from app_helpers import JobDir, wait_until

from tui.app.app import MirrorApp
from tui.app.widgets.logview import LogView

RECORDED = Path(__file__).parents[1] / "snapshots" / "logs" / "aborted.log"


def _rclone_lines() -> tuple[bytes, list[bytes]]:
    raw = RECORDED.read_bytes().splitlines()
    start = next(line for line in reversed(raw) if b"Starting Space Mirror" in line)
    body = [line for line in raw if line.startswith(b"{")]
    return start, body


async def test_flood_is_folded_and_throttled(job_dir: JobDir) -> None:
    start, body = _rclone_lines()
    total = 100_000
    lines = [body[i % len(body)] for i in range(total)]
    log = job_dir.job.log_file
    log.write_bytes(start + b"\n")
    app = MirrorApp(job_dir.job, job_dir.args, hostname="h", find_running=lambda _j: None)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.caught_up and app.run_state.running, what="settle")
        view = app.query_one(LogView)
        # How soon the key acts during a flood is measured by `make bench`
        # (flood-key-latency). Here: that it acts while the flood is still being written.
        acted_at: list[int] = []  # lines written when the action ran
        written = 0
        toggle = app.action_toggle_errors

        def counted_toggle() -> None:
            acted_at.append(written)
            toggle()

        app.action_toggle_errors = counted_toggle  # type: ignore[method-assign]
        updates_before = app.state_updates
        t0 = time.monotonic()
        chunk = 10_000
        with open(log, "ab") as fh:
            for i in range(0, total, chunk):
                fh.write(b"\n".join(lines[i:i + chunk]) + b"\n")
                fh.flush()
                written = i + chunk
                await pilot.pause(0.05)
                if i == total // 2:
                    await pilot.press("e")
        await wait_until(pilot, lambda: app.run_state.lines == 1 + total, timeout=60,
                         what="every line to be folded into the state")
        elapsed = time.monotonic() - t0
        updates = app.state_updates - updates_before
        assert view.errors_only  # the key went through …
        assert len(acted_at) == 1 and acted_at[0] < total  # … once, amid the flood
        # The throttle: at most ~10 updates a second. The bound grows with the elapsed
        # time, so a loaded machine cannot fail it; only a broken throttle can.
        assert updates <= 12 * elapsed + 3
        assert view.line_count <= view.max_lines
