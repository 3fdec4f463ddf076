"""Notifications through Apprise (issue 24), end to end: real runs with the real rclone (local
→ local), Apprise's `json://` scheme to a receiver on 127.0.0.1.

- a real failed run sends one message holding the class, its count, the remedy and the
  file; a second failed night sends nothing; the successful run after it sends `recovered`;
- a stalled run (rclone SIGSTOPped, the watchdog stops it) sends `STALLED`;
- `status --notify` sends `STALE` without a run, once;
- the notify URL (a secret from the env file) and the env file's secret never show;
- receivers that refuse or hang change neither the exit code nor the run's time beyond the
  deadline, and are logged and counted in the metrics.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sm_testkit import (
    CANARY_SECRET,
    REPO,
    JobFiles,
    PostRecorder,
    assert_no_canary,
    free_port,
    rclone_children,
    wait_until,
)

TOKEN = "tk9f3Q7zLw2x"  # the receiver's path token: a secret like an ntfy or Slack token


@pytest.fixture
def receiver() -> Iterator[PostRecorder]:
    r = PostRecorder()
    yield r
    r.close()


def notify_job(job_config: Any, make_tree: Any, url: str, **keys: Any) -> JobFiles:
    job = job_config(**keys)
    env_file = job.base / "creds.env"
    env_file.write_text(f"NOTIFY_URL={url}\nRCLONE_SFTP_PASS={CANARY_SECRET}\n")
    env_file.chmod(0o600)
    job = job_config(env_file=str(env_file), notify=["env:NOTIFY_URL"], **keys)
    # A file named like the secret: rclone logs it, so the tally holds it in clear.
    make_tree(job.source, {"a.txt": "a", f"dirfile/{CANARY_SECRET}.txt": "x"})
    return job


def messages(r: PostRecorder) -> list[dict[str, Any]]:
    out = []
    for path, body in r.got:
        assert path == f"/hook/{TOKEN}"
        out.append(json.loads(body))
    return out


def no_secret(*texts: str) -> None:
    for text in texts:
        assert_no_canary(text.encode())
        assert TOKEN not in text


def block(job: JobFiles) -> None:
    """A real failure: the destination has a file where the source has a folder."""
    shutil.rmtree(job.dest / "dirfile")
    (job.dest / "dirfile").write_text("in the way")


def run(job: JobFiles, run_cli: Any) -> subprocess.CompletedProcess[str]:
    return run_cli("--config", str(job.config), "run")


def test_failure_once_then_recovered(job_config, make_tree, run_cli,
                                     receiver: PostRecorder) -> None:
    url = f"json://127.0.0.1:{receiver.port}/hook/{TOKEN}"
    job = notify_job(job_config, make_tree, url)
    r = run(job, run_cli)
    assert r.returncode == 0, r.stderr
    assert receiver.got == []  # a first good run is no news

    block(job)
    r = run(job, run_cli)
    assert r.returncode == 1, r.stderr  # rclone's code, notification or not
    [msg] = messages(receiver)
    assert msg["title"] == f"space-mirror t on {socket.gethostname()}: FAILED"
    body = msg["message"]
    assert re.search(r"Error class: io ×1", body), body
    assert "What to do: a path is a file at the destination where the source has a folder" \
        in body
    assert "Files: dirfile/***.txt." in body  # the file, its secret name redacted
    assert CANARY_SECRET in job.log_text()  # it was there to leak
    assert "Last good mirror: " in body and " ago." in body
    assert "More: space-mirror history --job t" in body
    no_secret(body, msg["title"], r.stdout, r.stderr)
    assert TOKEN not in job.log_text()

    r = run(job, run_cli)  # the second failed night: no news
    assert r.returncode == 1
    assert len(receiver.got) == 1

    (job.dest / "dirfile").unlink()
    r = run(job, run_cli)
    assert r.returncode == 0, r.stderr
    assert [m["title"].rsplit(": ", 1)[1] for m in messages(receiver)] == ["FAILED",
                                                                           "recovered"]
    assert "The last sync succeeded" in messages(receiver)[1]["message"]
    assert run(job, run_cli).returncode == 0
    assert len(receiver.got) == 2  # recovered closed it
    state = json.loads((job.base / "t.notify.json").read_text())
    assert state["state"] == "ok" and state["failures_total"] == 0
    assert oct((job.base / "t.notify.json").stat().st_mode & 0o777) == "0o600"


def test_a_refused_run_is_a_failure_too(job_config, make_tree, run_cli,
                                        receiver: PostRecorder) -> None:
    url = f"json://127.0.0.1:{receiver.port}/hook/{TOKEN}"
    job = notify_job(job_config, make_tree, url)
    shutil.rmtree(job.source)  # the pre-flight refuses: exit 78, no rclone
    r = run(job, run_cli)
    assert r.returncode == 78, r.stderr
    [msg] = messages(receiver)
    assert msg["title"].endswith(": FAILED")
    assert "Why: pre-flight: source:" in msg["message"]
    assert "Last good mirror: never." in msg["message"]


def test_stale_from_status_without_a_run(job_config, make_tree, run_cli,
                                         receiver: PostRecorder) -> None:
    url = f"json://127.0.0.1:{receiver.port}/hook/{TOKEN}"
    job = notify_job(job_config, make_tree, url)
    assert run(job, run_cli).returncode == 0
    assert receiver.got == []
    # The same job with a crit_after the last good mirror is already older than.
    stale = job_config(env_file=job.keys["env_file"], notify=["env:NOTIFY_URL"],
                       warn_after=0.001, crit_after=0.002)
    r = run_cli("--config", str(stale.config), "status", "--notify")
    assert r.returncode == 2, r.stdout + r.stderr  # CRITICAL, as without --notify
    [msg] = messages(receiver)
    assert msg["title"].endswith(": STALE")
    assert "The last good mirror is " in msg["message"] and "over crit_after" in msg["message"]
    assert "systemctl list-timers" in msg["message"]
    no_secret(msg["message"], r.stdout, r.stderr)
    assert run_cli("--config", str(stale.config), "status", "--notify").returncode == 2
    assert len(receiver.got) == 1  # once per change


def test_stalled_run(job_config, make_tree, receiver: PostRecorder, cli_env) -> None:
    url = f"json://127.0.0.1:{receiver.port}/hook/{TOKEN}"
    job = notify_job(job_config, make_tree, url, stall_timeout=3.0, abort_grace=3.0,
                     remote_timeout=2.0, flags=["--transfers", "2", "--bwlimit", "1M"])
    for i in range(3):
        (job.source / f"big{i}.bin").write_bytes(os.urandom(2 * 1024 * 1024))
    runner = subprocess.Popen([sys.executable, "-m", "tui", "--config", str(job.config),
                               "run"], env=cli_env, text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                              cwd=str(REPO), start_new_session=True)
    try:
        wait_until(lambda: b'"transferring":[{' in (job.log.read_bytes() if job.log.exists()
                                                    else b""), 30, "a file in flight", 0.02)
        rclone = wait_until(lambda: rclone_children(runner.pid), 10, "rclone's pid")[0]
        rclone.send_signal(signal.SIGSTOP)
        _, err = runner.communicate(timeout=60)
    finally:
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
            runner.communicate()
    assert runner.returncode == 79, err
    [msg] = messages(receiver)
    assert msg["title"].endswith(": STALLED")
    assert "Why: no progress for 3s (stall_timeout); in flight:" in msg["message"]
    assert "Error class: stalled. What to do: find what blocks the transfer" in msg["message"]
    no_secret(msg["message"], err)


def test_refusing_and_hanging_receivers_change_nothing(job_config, make_tree,
                                                        run_cli) -> None:
    hole = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    try:
        refused = f"json://127.0.0.1:{free_port()}/hook/{TOKEN}"
        hanging = f"json://127.0.0.1:{hole.getsockname()[1]}/hook/{TOKEN}"
        job = notify_job(job_config, make_tree, refused, hook_timeout=3.0)
        job = job_config(env_file=job.keys["env_file"],
                         notify=["env:NOTIFY_URL", hanging], hook_timeout=3.0)
        assert run(job, run_cli).returncode == 0
        block(job)
        started = time.monotonic()
        r = run(job, run_cli)
        took = time.monotonic() - started
    finally:
        hole.close()
    assert r.returncode == 1, r.stderr
    assert took < 3.0 + 12, took  # the deadline, plus the run itself on a busy machine
    assert "notify to json://… failed" in r.stderr
    assert "the run's exit code is unchanged" in r.stderr
    assert "space-mirror notify: notify to json://…" in job.log_text()
    no_secret(r.stdout, r.stderr)
    assert TOKEN not in job.log_text()
    prom = (job.base / "metrics_notify.prom").read_text()
    assert re.search(r'^space_mirror_notify_failures_total\{job="t"\} 2$', prom, re.M), prom
    # Not told, so not remembered: the next run tries again.
    assert json.loads((job.base / "t.notify.json").read_text()).get("state") != "failure"


def test_verify_differences_by_file_with_the_remedy(job_config, make_tree, run_cli,
                                                   receiver: PostRecorder) -> None:
    url = f"json://127.0.0.1:{receiver.port}/hook/{TOKEN}"
    job = notify_job(job_config, make_tree, url)
    make_tree(job.source, {f"p/f{i}.bin": 3000 + i for i in range(12)})
    assert run(job, run_cli).returncode == 0
    target = job.dest / "p/f7.bin"
    good = target.read_bytes()
    st = target.stat()
    target.write_bytes(bytes([good[0] ^ 1]) + good[1:])
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    codes = [run_cli("--config", str(job.config), "verify", "--rotate", "2").returncode
             for _ in range(2)]
    assert sorted(codes) == [0, 1]  # found in its slice, once in the cycle
    [msg] = messages(receiver)  # the other slice's clean verify is no news
    assert msg["title"].endswith(": verify: differences")
    assert "differ: p/f7.bin" in msg["message"]
    assert "What to do: differ: the destination's copy differs" in msg["message"]
    assert re.search(r"Verification: verified \d+% within the last \d runs?", msg["message"])
    no_secret(msg["message"])

    target.write_bytes(good)  # repaired; the slice is proven at its next turn
    for _ in range(2):
        assert run_cli("--config", str(job.config), "verify", "--rotate", "2").returncode == 0
    assert [m["title"].rsplit(": ", 1)[1] for m in messages(receiver)] == [
        "differences", "recovered"]
