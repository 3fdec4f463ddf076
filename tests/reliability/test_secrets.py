"""Fault 8 (runner side): canary values for every credential never appear in our output,
our log lines, any process's command line, the lock file, the metrics, or a hook's output.
The dashboard side (screens) is covered by the snapshot canary test in tests/app."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import psutil
import pytest

from tests.reliability.conftest import (
    CANARY_PASS,
    SftpServer,
    clean_env,
    make_tree,
    obscure,
    wait_for,
    write_job,
)
from tui.core import exitcodes

B2_KEY_ID = "CANARY-KEYID-7f3a21"
B2_KEY = "CANARY-B2SECRET-91bd44"


def _all_cmdlines() -> str:
    parts = []
    for proc in psutil.process_iter(["cmdline"]):
        parts.append(" ".join(proc.info.get("cmdline") or []))
    return "\n".join(parts)


@pytest.mark.slow
def test_canaries_never_leak(tmp_path: Path, sftp_server: SftpServer) -> None:
    src = tmp_path / "src"
    make_tree(src, 8, 256 * 1024)
    job = write_job(tmp_path / "job", src, sftp_server, ["--transfers", "2", "--bwlimit", "1M"])
    obscured = obscure(CANARY_PASS)
    # B2 names too: mapped into RCLONE_B2_* for the child, and they must not leak either.
    with open(job.env_file, "a") as fh:
        fh.write(f"B2_APPLICATION_KEY_ID={B2_KEY_ID}\nB2_APPLICATION_KEY={B2_KEY}\n")
    hook_out = tmp_path / "hook-env.txt"
    config = job.config.read_text() + f'on_success = "env > {hook_out}; echo hook done"\n'
    job.config.write_text(config)
    canaries = [CANARY_PASS, obscured, B2_KEY_ID, B2_KEY]

    runner = job.spawn()
    seen_cmdlines = []
    lock_texts = []
    try:
        def finished() -> bool:
            seen_cmdlines.append(_all_cmdlines())
            if job.lock.exists():
                lock_texts.append(job.lock.read_text(errors="replace"))
            return runner.poll() is not None

        wait_for(finished, 60, interval=0.1, what="the run to finish")
        out, err = runner.communicate()
    finally:
        if runner.poll() is None:
            runner.kill()
    assert runner.returncode == 0, err
    assert any("rclone" in c and "sync" in c for c in seen_cmdlines)  # we did sample it
    assert any(t.strip() for t in lock_texts)  # and read the lock while it was held
    assert hook_out.exists()  # the hook ran, with the run's facts
    hook_env = hook_out.read_text()
    assert "SPACE_MIRROR_OUTCOME=success" in hook_env
    places = {
        "stdout": out, "stderr": err, "log": job.log_text(), "hook env": hook_env,
        "metrics": (job.base / "metrics.prom").read_text(),
        "summary": (job.base / "summary.json").read_text(),
        "cmdlines": "\n".join(seen_cmdlines), "lock": "\n".join(lock_texts),
    }
    for where, text in places.items():
        for canary in canaries:
            assert canary not in text, f"canary leaked into {where}"

    # Outputs of the other commands, including a failing pre-flight against a dead remote.
    sftp_server.stop()
    for args in (["check"], ["run"], ["history"], ["unit"]):
        res = subprocess.run(job.cli(*args), capture_output=True, text=True, env=clean_env(),
                             timeout=120)
        text = res.stdout + res.stderr
        assert "Traceback" not in text
        for canary in canaries:
            assert canary not in text, f"canary leaked into `{' '.join(args)}`"
    assert res.returncode == exitcodes.OK  # unit
    assert not any(c in job.log_text() for c in canaries)


@pytest.mark.parametrize("flags", [["-vv"], ["--dump", "headers"], ["--log-level", "DEBUG"],
                                   ["--log-level=DEBUG"], ["--dump-bodies"], ["-vvv"]])
def test_leaky_flags_are_refused(tmp_path: Path, sftp_server: SftpServer,
                                 flags: list[str]) -> None:
    src = tmp_path / "src"
    make_tree(src, 2, 1024)
    job = write_job(tmp_path / "job", src, sftp_server, flags)
    res = job.run()
    assert res.returncode == exitcodes.CONFIG
    assert "credentials in clear" in res.stderr or "--dump" in res.stderr
    assert not job.dest_path.exists() or not any(job.dest_path.iterdir())


def test_world_readable_env_file_is_refused(tmp_path: Path, sftp_server: SftpServer) -> None:
    src = tmp_path / "src"
    make_tree(src, 2, 1024)
    job = write_job(tmp_path / "job", src, sftp_server, [])
    os.chmod(job.env_file, 0o644)
    res = job.run()
    assert res.returncode == exitcodes.CONFIG
    assert "chmod 600" in res.stderr
    assert CANARY_PASS not in res.stderr + res.stdout
