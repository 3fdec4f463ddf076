"""Fault 4: the remote dies mid-transfer and comes back. The run is recorded as failed with
the `network` error class; the next run exits 0 and nothing is lost."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.reliability.conftest import (
    SftpServer,
    clean_env,
    make_tree,
    partial_files,
    wait_for,
    write_job,
)
from tui.core.markers import MarkerKind, parse_marker


@pytest.mark.slow
def test_remote_dies_mid_transfer_then_returns(tmp_path: Path, sftp_server: SftpServer) -> None:
    src = tmp_path / "src"
    make_tree(src, 8, 512 * 1024)
    # Few retries keep the failing run short; the behaviour is the same with the defaults.
    job = write_job(tmp_path / "job", src, sftp_server,
                    ["--transfers", "4", "--bwlimit", "1M", "--retries", "1",
                     "--low-level-retries", "1"])
    runner = job.spawn()
    try:
        wait_for(lambda: partial_files(job.dest_path), 30, interval=0.01,
                 what="a transfer in flight")
        sftp_server.stop()  # SIGKILL: the remote vanishes without a goodbye
        runner.wait(timeout=120)
    finally:
        if runner.poll() is None:
            runner.kill()
        runner.communicate()
    assert runner.returncode not in (0, None)
    ends = [m for m in (parse_marker(ln) for ln in job.log_text().splitlines())
            if m is not None and m.kind is not MarkerKind.START]
    assert len(ends) == 1 and ends[0].kind is MarkerKind.FAILED
    assert ends[0].exit_code == runner.returncode

    history = subprocess.run(job.cli("history", "--json"), capture_output=True, text=True,
                             env=clean_env(), timeout=60)
    assert history.returncode == 0, history.stderr
    runs = json.loads(history.stdout)["runs"]
    assert runs[-1]["outcome"] == "failed"
    classes = {c["class"]: c for c in runs[-1]["error_classes"]}
    assert "network" in classes, classes
    assert "connection" in classes["network"]["example"].lower()

    sftp_server.start()  # the remote comes back, same port, same files
    # The nightly job's usual flags again (rclone's default 3 attempts): on sftp, removing a
    # leftover .partial can fail once with "file does not exist", and the next attempt is
    # clean; rclone's own retry is what makes the recovery run succeed.
    job = write_job(tmp_path / "job", src, sftp_server, ["--transfers", "4"])
    rerun = job.run()
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    check = job.check()
    assert check.returncode == 0 and "0 differences found" in check.stderr
    assert partial_files(job.dest_path) == []
