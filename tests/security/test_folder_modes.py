"""Issue 20, row 5: the runner never changes the mode of a folder it did not create.

A `lock_file` configured in an existing folder (`/run/x.lock` would mean /run) used to make
the runner chmod that folder to 0700, cutting off every other user. It is left alone; the
remote control (which needs a 0700 folder) stays off, and the warning says what to do.
"""

from __future__ import annotations

import stat

from .conftest import as_nobody


def test_row5_a_lock_files_folder_keeps_its_mode(sec_job, reachable, run_cli) -> None:
    public = reachable / "public"
    public.mkdir()
    public.chmod(0o755)
    (public / "readme").write_text("for everyone\n")
    job = sec_job(lock_file=str(public / "j.lock"))
    (job.source / "a").write_text("a")
    before = as_nobody("cat", str(public / "readme"))
    assert before.returncode == 0
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(public.stat().st_mode) == 0o755
    after = as_nobody("cat", str(public / "readme"))  # nobody still reaches its files
    assert (after.returncode, after.stdout) == (0, "for everyone\n"), after.stderr
    assert f"chmod 700 {public}" in r.stderr, r.stderr  # why rc is off, and the fix
    assert (job.dest / "a").read_text() == "a"
