"""`space-mirror verify` with the real rclone: a sampled `rclone check --one-way` that finds
a corrupted file at a local destination (same size, same mtime: a sync would not notice),
writes verify markers the history lists, and its own metrics."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
from sm_testkit import (
    REPO,
    JobFiles,
    S3Server,
    assert_no_canary,
    rclone_alive,
    rclone_children,
    wait_until,
)

from tui.core.markers import MarkerKind, parse_marker

TREE = {f"d{i % 4}/f{i:02}.bin": 3000 + i for i in range(40)}


def markers(job: JobFiles) -> list:
    return [m for m in (parse_marker(ln) for ln in job.log_text().splitlines()) if m]


def corrupt(path: Path) -> None:
    """Flip one byte, keep size and mtime."""
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def synced(job_config, make_tree, run_cli) -> JobFiles:  # type: ignore[no-untyped-def]
    job = job_config()
    make_tree(job.source, TREE)
    assert run_cli("--config", str(job.config), "run").returncode == 0
    return job


def test_verify_finds_a_corrupted_file(job_config, make_tree, run_cli, tmp_path: Path) -> None:
    job = synced(job_config, make_tree, run_cli)
    corrupt(job.dest / "d1/f05.bin")
    (job.dest / "d2/f10.bin").unlink()
    assert run_cli("--config", str(job.config), "run", "--dry-run").returncode == 0
    assert '"skipped":"copy"' in job.log_text()  # the missing one; the corrupted one unseen
    temp = tmp_path / "tmp"
    temp.mkdir()

    r = run_cli("--config", str(job.config), "verify", "--sample", "100",
                env={"TMPDIR": str(temp)})
    assert r.returncode == 1, r.stderr
    assert "2 differences in 40 sampled files: 1 missing on destination (e.g. d2/f10.bin), " \
           "1 differ (e.g. d1/f05.bin), 0 errors" in r.stdout
    assert "  differ: d1/f05.bin" in r.stdout and "Traceback" not in r.stderr
    assert list(temp.iterdir()) == []  # the private --files-from list is gone
    start, end = markers(job)[-2:]
    assert start.kind is MarkerKind.START and start.verify and start.fields["sampled"] == "40"
    assert end.kind is MarkerKind.FAILED and end.exit_code == 1 and end.verify
    assert (end.fields["missing"], end.fields["differ"], end.fields["unreadable"]) == (
        "1", "1", "0")
    assert "Space Mirror verify FAILED with exit code 1" in job.log_text()
    assert '"msg":"md5 differ","object":"d1/f05.bin"' in job.log_text()  # rclone's own line

    prom = (job.base / "metrics_verify.prom").read_text()
    assert 'space_mirror_last_verify_success{job="t"} 0' in prom
    assert 'space_mirror_last_verify_differences{job="t"} 2' in prom
    assert 'space_mirror_last_verify_differ_files{job="t"} 1' in prom
    assert 'space_mirror_last_verify_sampled_files{job="t"} 40' in prom
    assert 'space_mirror_last_run_success{job="t"} 1' in job.metrics.read_text()

    hist = json.loads(run_cli("--config", str(job.config), "history", "--json").stdout)
    last = hist["runs"][-1]
    assert (last["mode"], last["outcome"], last["errors"]) == ("verify", "failed", 2)
    assert last["verify"] == {"sampled": 40, "differences": 2, "missing": 1, "differ": 1,
                              "unreadable": 0}
    assert "d1/f05.bin" in last["failed_files"]
    table = run_cli("--config", str(job.config), "history").stdout
    assert "verify: 40 sampled, 1 missing on destination, 1 differ, 0 errors" in table


def test_verify_of_an_intact_mirror_samples_a_share(job_config, make_tree, run_cli) -> None:
    job = synced(job_config, make_tree, run_cli)
    r = run_cli("--config", str(job.config), "verify", "--sample", "10")
    assert r.returncode == 0, r.stderr
    assert "checking 4 of 40 files (10%)" in r.stdout
    assert "no differences in 4 sampled files" in r.stdout
    start, end = markers(job)[-2:]
    assert (start.fields["sampled"], start.fields["source_files"]) == ("4", "40")
    assert end.kind is MarkerKind.COMPLETE and end.fields["checks"] == "4"
    prom = (job.base / "metrics_verify.prom").read_text()
    assert 'space_mirror_last_verify_success{job="t"} 1' in prom
    # A verify is not a sync: the run summary (the safety guards' baseline) is untouched.
    assert json.loads(job.summary.read_text())["mode"] == "sync"


def test_verify_usage_and_lock(job_config, make_tree, run_cli) -> None:
    job = synced(job_config, make_tree, run_cli)
    r = run_cli("--config", str(job.config), "verify", "--sample", "0")
    assert r.returncode == 64
    assert r.stderr.strip() == ("space-mirror: --sample 0 is not a percentage above 0 and at "
                                "most 100 (e.g. 5)")
    fd = os.open(job.lock, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, b'{"pid": 4242, "run_id": "r1", "job": "t", "mode": "sync", "log": "x",'
                     b' "started": "s"}')
        r = run_cli("--config", str(job.config), "verify")
    finally:
        os.close(fd)
    assert r.returncode == 75
    # The engine's one lock policy (the same words as `run`), ending with what it won't do.
    assert ("a sync of job 't' is already running (pid 4242, run r1, started s); "
            "not verifying now") in r.stderr
    assert not [m for m in markers(job) if m.verify]


def test_verify_against_s3_keeps_the_credentials_hidden(job_config, make_tree, run_cli,
                                                        s3_server: S3Server) -> None:
    job = job_config(destination=s3_server.destination, env_file=str(s3_server.env_file),
                     remote_timeout=10)
    make_tree(job.source, {"a.txt": 1000, "b/c.bin": 5000})
    assert run_cli("--config", str(job.config), "run").returncode == 0
    corrupt(s3_server.bucket_dir / "b/c.bin")
    # rclone serve s3 reports the MD5 recorded at upload, so only the bytes tell.
    r = run_cli("--config", str(job.config), "verify", "--sample", "100", "--download")
    assert r.returncode == 1, r.stderr
    assert "1 differ (e.g. b/c.bin)" in r.stdout
    assert_no_canary(r.stdout, r.stderr, job.log_text(),
                     (job.base / "metrics_verify.prom").read_text())


def test_sigterm_stops_a_verify_and_says_so(job_config, make_tree, run_cli, cli_env) -> None:
    job = job_config()
    make_tree(job.source, {"big.bin": 8 * 1024 * 1024})
    assert run_cli("--config", str(job.config), "run").returncode == 0
    job = job_config(bwlimit="256k")  # the job's limit holds for a --download verify too
    proc = subprocess.Popen([sys.executable, "-m", "tui", "--config", str(job.config), "verify",
                             "--sample", "100", "--download"], env=cli_env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, cwd=str(REPO))
    try:
        def checking() -> list[tuple[psutil.Process, list[str]]]:
            out = []
            for k in rclone_children(proc.pid):
                try:
                    if "check" in (argv := k.cmdline()):
                        out.append((k, argv))
                except psutil.Error:  # the listing rclone has just exited
                    pass
            return out

        kids = wait_until(checking, 30, "rclone check")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143, err
    assert not any(rclone_alive(k.pid) for k, _ in kids)
    end = markers(job)[-1]
    assert end.kind is MarkerKind.ABORTED and end.verify and end.exit_code == 143
    assert end.fields["reason"] == "stopped by SIGTERM"
    assert "--bwlimit" in kids[0][1] and "Traceback" not in err
    assert "aborted (exit 143)" in out


def test_odd_names_reach_rclone_as_they_are(job_config, make_tree, run_cli) -> None:
    job = job_config()
    make_tree(job.source, {"#not-a-comment.txt": 900, "sp ace/é ü.bin": 800, " lead.bin": 700})
    assert run_cli("--config", str(job.config), "run").returncode == 0
    corrupt(job.dest / "#not-a-comment.txt")
    corrupt(job.dest / " lead.bin")
    r = run_cli("--config", str(job.config), "verify", "--sample", "100")
    assert r.returncode == 1, r.stderr
    assert "2 differences in 3 sampled files" in r.stdout
    assert "  differ: #not-a-comment.txt" in r.stdout and "  differ:  lead.bin" in r.stdout
