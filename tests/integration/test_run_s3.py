"""`space-mirror run` to a real S3 server on 127.0.0.1 (`rclone serve s3`), with the
credentials in an env file: they reach rclone through its environment and nowhere else."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import psutil
import pytest
from sm_testkit import (
    CANARY_KEY_ID,
    CANARY_SECRET,
    REPO,
    JobFiles,
    S3Server,
    assert_no_canary,
    digest_tree,
    rclone_children,
    wait_until,
)

from tui.core.markers import MarkerKind, parse_marker


def s3_job(job_config, s3: S3Server, **keys: object) -> JobFiles:  # type: ignore[no-untyped-def]
    return job_config(destination=s3.destination, env_file=str(s3.env_file),
                      remote_timeout=10, **keys)


def test_sync_to_s3(job_config, make_tree, run_cli, s3_server: S3Server) -> None:
    job = s3_job(job_config, s3_server)
    make_tree(job.source, {"a.txt": 1000, "dir/b.bin": 20_000, "dir/sub/c": 5})
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 0, r.stderr
    assert digest_tree(s3_server.bucket_dir) == digest_tree(job.source)
    end = [m for m in (parse_marker(ln) for ln in job.log_text().splitlines()) if m][-1]
    assert end.kind is MarkerKind.COMPLETE
    # The marker carries rclone's own count. Over a network an upload that failed and was
    # re-sent (a low-level retry, logged only at DEBUG) is counted once per attempt, so the
    # count is the tree's 21005 bytes or more; it is exact in test_run_local.
    stats = [json.loads(ln)["stats"] for ln in job.log_text().splitlines()
             if ln.startswith("{") and '"stats"' in ln]
    assert end.fields["transfers"] == "3"
    assert end.fields["bytes"] == str(stats[-1]["bytes"])
    assert int(end.fields["bytes"]) >= 21005
    assert_no_canary(r.stdout, r.stderr, job.log_text(), job.summary.read_text(),
                     job.metrics.read_text())

    (job.source / "a.txt").unlink()
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 0, r.stderr
    end = [m for m in (parse_marker(ln) for ln in job.log_text().splitlines()) if m][-1]
    assert end.fields["deletes"] == "1"
    assert digest_tree(s3_server.bucket_dir) == digest_tree(job.source)


def test_check_online_against_s3(job_config, make_tree, run_cli, s3_server: S3Server) -> None:
    job = s3_job(job_config, s3_server)
    make_tree(job.source, {"a": 1})
    r = run_cli("--config", str(job.config), "check")
    assert r.returncode == 0, r.stdout
    assert "✓ destination: :s3:bucket answers" in r.stdout
    assert "values hidden" in r.stdout
    assert_no_canary(r.stdout, r.stderr)


def test_wrong_key_is_an_auth_failure(job_config, make_tree, run_cli,
                                      s3_server: S3Server) -> None:
    s3_server.env_file.write_text(s3_server.env_file.read_text().replace(
        CANARY_KEY_ID, "CANARY-WRONG-0000"))
    job = s3_job(job_config, s3_server)
    make_tree(job.source, {"a": 1})
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 78
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "auth" in lines[0] and "Traceback" not in r.stderr
    assert "CANARY-WRONG-0000" not in r.stderr + job.log_text()


def test_secrets_stay_out_of_argv_while_rclone_runs(job_config, make_tree, cli_env,
                                                    s3_server: S3Server) -> None:
    """Sample every process's command line while a throttled sync runs: the canaries are
    in rclone's environment (which only root and the owner can read), never in argv."""
    job = s3_job(job_config, s3_server, flags=["--bwlimit", "200k", "--transfers", "1"])
    make_tree(job.source, {"big.bin": 2_000_000})
    proc = subprocess.Popen([sys.executable, "-m", "tui", "--config", str(job.config), "run"],
                            env=cli_env, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd=str(REPO))
    try:
        rclone = wait_until(lambda: sync_child(proc), 20, "rclone sync to start")
        samples = 0
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            with open(f"/proc/{rclone.pid}/cmdline", "rb") as fh:
                cmdline = fh.read()
            assert b" sync " in b" " + cmdline.replace(b"\0", b" ")
            assert_no_canary(cmdline)
            for p in psutil.process_iter(["cmdline"]):
                assert_no_canary(" ".join(p.info["cmdline"] or []))
            samples += 1
        assert samples >= 3
        env = rclone.environ()
        assert env["RCLONE_S3_ACCESS_KEY_ID"] == CANARY_KEY_ID  # the one place it belongs
        assert env["RCLONE_S3_SECRET_ACCESS_KEY"] == CANARY_SECRET
        assert CANARY_SECRET not in psutil.Process(proc.pid).environ().values()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143
    assert_no_canary(out, err, job.log_text())


def sync_child(proc: subprocess.Popen[str]) -> psutil.Process | None:
    """The runner's `rclone sync` child (the pre-flight runs `rclone version` and `lsf`)."""
    if proc.poll() is not None:
        out, err = proc.communicate()
        pytest.fail(f"the runner exited early ({proc.returncode}): {out} {err}")
    for kid in rclone_children(proc.pid):
        try:
            if "sync" in kid.cmdline()[1:2]:
                return kid
        except psutil.NoSuchProcess:
            continue
    return None
