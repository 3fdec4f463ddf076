"""Issue 15, item 3: the dashboard's reason leads with the main class ×count (example) and the
remedy, never rclone's `Attempt N/M` line, and is whole at 80x24. An older run whose end
marker's reason is rclone's Attempt summary uses the classes the history counted."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from app_helpers import JobDir, wait_text, wait_until

from tui.app.app import MirrorApp

REMEDY = Path(__file__).parents[1] / "fixtures" / "remedy" / "readonly-and-dirfile.jsonl"
RUN = "20261204T100000-abcd"
START = (f"[2026-12-04T10:00:00+00:00] Starting Space Mirror... run={RUN} job=t mode=sync "
         "pid=1 by=cli\n")
# The reason an older runner wrote: rclone's exit meaning and its last (Attempt) line.
END = (f"[2026-12-04T10:00:05+00:00] Space Mirror FAILED with exit code 1 run={RUN} "
       "reason=\"Error not otherwise categorised. Last error: Attempt 3/3 failed with 3 "
       "errors and: mkdir /tmp/rem/dst/dirfile: not a directory\" bytes=0 transfers=0 "
       "checks=0 deletes=0 renames=0 errors=3 elapsed=5.0\n")


# The remedy names the destination: a path of a fixed length, not the test's temporary
# folder (under pytest-xdist that is longer, and the example gave way to it at 80 columns).
DST = "/srv/mirror"


async def test_an_old_runs_reason_is_its_counted_classes_and_remedy(job_dir: JobDir) -> None:
    job_dir.job.log_file.write_text(START + REMEDY.read_text() + END)
    app = MirrorApp(replace(job_dir.job, destination=DST), job_dir.args, hostname="h")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.caught_up, what="settle")
        shown = await wait_text(pilot, "reason: permission ×2")
        lines = shown.splitlines()
        at = next(i for i, line in enumerate(lines) if "reason: " in line)
        flat = " ".join(line.strip() for line in lines[at:at + 6])
        assert "Attempt" not in flat and "Error not otherwise" not in flat
        assert "(ro/a.txt" in flat
        assert (f"make the folders named writable by the runner (root) under {DST}: a "
                "read-only mount, an immutable flag (`lsattr`) or mode 0555 folders; "
                "3 attempts; +1 other class") in flat, flat
