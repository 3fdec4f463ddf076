"""Healthchecks-style pings against a local HTTP server, with real runs (real rclone, local
→ local): URL/start then URL or URL/<exit code>, the log's tail as the body with secrets
redacted, and a ping that fails or hangs never changes the exit code."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from sm_testkit import CANARY_SECRET, PostRecorder, assert_no_canary, free_port

from tui.ops.monitor import ping

UUID = "0f3c9d1e-6a7b-4c8d-9e0f-123456789abc"


@pytest.fixture
def pings() -> Iterator[PostRecorder]:
    p = PostRecorder()
    yield p
    p.close()


def url_of(p: PostRecorder) -> str:
    return f"http://127.0.0.1:{p.port}/ping/{UUID}"


def canary_job(job_config: Any, make_tree: Any, **keys: Any) -> Any:
    job = job_config(**keys)
    env_file = job.base / "creds.env"
    env_file.write_text(f"RCLONE_SFTP_PASS={CANARY_SECRET}\n")
    env_file.chmod(0o600)
    job = job_config(env_file=str(env_file), **keys)
    # A file whose name is the secret: rclone logs it, so the log holds it in clear.
    make_tree(job.source, {f"{CANARY_SECRET}.txt": "x", "a.txt": "a"})
    return job


def test_success_and_failure_pings(job_config, make_tree, run_cli, pings: PostRecorder) -> None:
    job = canary_job(job_config, make_tree, ping_url=url_of(pings))
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 0, r.stderr
    assert [p for p, _ in pings.got] == [f"/ping/{UUID}/start", f"/ping/{UUID}"]
    start_body, body = pings.got[0][1], pings.got[1][1]
    assert start_body == b""
    assert b"Starting Space Mirror..." in body and b"Space Mirror Complete." in body
    assert b"***.txt" in body  # the file name, redacted
    assert_no_canary(body)
    assert CANARY_SECRET in job.log_text()  # it was there to leak

    pings.got.clear()
    (job.source / "a.txt").unlink()
    for f in job.source.iterdir():
        f.unlink()
    job.source.rmdir()  # the pre-flight fails: exit 78
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 78
    assert [p for p, _ in pings.got] == [f"/ping/{UUID}/start", f"/ping/{UUID}/78"]
    assert b"Space Mirror FAILED with exit code 78" in pings.got[1][1]
    assert len(pings.got[1][1]) <= ping.BODY_LIMIT


def test_dry_run_does_not_ping(job_config, make_tree, run_cli, pings: PostRecorder) -> None:
    job = canary_job(job_config, make_tree, ping_url=url_of(pings))
    assert run_cli("--config", str(job.config), "run", "--dry-run").returncode == 0
    assert pings.got == []


def test_failed_pings_never_change_the_exit_code(job_config, make_tree, run_cli) -> None:
    refused = f"http://127.0.0.1:{free_port()}/ping/{UUID}"  # nothing listens there
    job = canary_job(job_config, make_tree, ping_url=refused)
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 0, r.stderr
    assert "warning: ping to http://127.0.0.1 failed" in r.stderr
    assert UUID not in r.stderr + r.stdout + job.log_text()

    # A server that accepts and never answers: each ping gives up after hook_timeout.
    hole = socket.create_server(("127.0.0.1", 0))
    try:
        url = f"http://127.0.0.1:{hole.getsockname()[1]}/ping/{UUID}"
        job = canary_job(job_config, make_tree, ping_url=url, hook_timeout=1)
        r = run_cli("--config", str(job.config), "run", timeout=30)
        assert r.returncode == 0, r.stderr
        assert r.stderr.count("warning: ping to http://127.0.0.1 failed") == 2
    finally:
        hole.close()


def test_targets() -> None:
    assert ping.target("https://hc.example/x/", "start") == "https://hc.example/x/start"
    assert ping.target("https://hc.example/x", "success") == "https://hc.example/x"
    assert ping.target("https://hc.example/x", "failure", 7) == "https://hc.example/x/7"
    assert ping.target("https://hc.example/x", "failure", 300) == "https://hc.example/x/fail"
    assert ping.send("file:///etc/passwd", b"") == "ping_url must be an http:// or https:// URL"
