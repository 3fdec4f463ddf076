"""Issue 20, row 4: any user's process can call itself `rclone sync SRC DST` (`exec -a`).

Root must not take it for the old wrapper's rclone: `status` must not report a running
sync, the dashboard must not block `s` nor aim `a` at it, and `check` names it as another
user's process. The attacker runs as `nobody`; only a root-run, real rclone binary with
this job's source and destination is the legacy wrapper's (tests/app/test_dashboard_runs.py
attaches to that one).
"""

from __future__ import annotations

import json
import subprocess

from tui.config import load_job
from tui.ops import processes

from .conftest import nobody_popen, stop_group


def _lookalike(job) -> subprocess.Popen[str]:
    # argv: rclone -c "…" sync SRC DST: what the old wrapper's rclone looked like by name
    script = ("exec -a rclone /usr/bin/python3 -c 'import time; print(\"up\", flush=True); "
              f"time.sleep(120)' sync {job.source} {job.dest}")
    proc = nobody_popen("bash", "-c", script)
    # "up" comes after the exec: from then on, the process table shows the look-alike
    assert proc.stdout is not None and proc.stdout.readline().strip() == "up"
    return proc


def test_row4_a_process_named_rclone_is_not_a_running_sync(sec_job, run_cli) -> None:
    job = sec_job()
    (job.source / "a").write_text("a")
    fake = _lookalike(job)
    try:
        status = run_cli("--config", str(job.config), "status", "--json")
        facts = json.loads(status.stdout)
        assert facts["running"] is False and facts["lock_holder"] is None, facts
        check = run_cli("--config", str(job.config), "check", "--offline")
        assert check.returncode == 0, check.stdout
        assert "another rclone is running (pid" in check.stdout and "user nobody" in check.stdout
        assert "never signalled" in check.stdout
        running = processes.find_running(load_job(job.config, "t"))
        assert running is None  # nothing for `a` to signal, nothing to block `s`
        run = run_cli("--config", str(job.config), "run")
        assert run.returncode == 0, run.stderr  # the real sync is not held up by it
        assert fake.poll() is None  # never signalled
    finally:
        stop_group(fake)
