"""Around the run: hooks, systemd notify, `space-mirror unit`, config lookup order."""

from __future__ import annotations

import json
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sm_testkit import CANARY_SECRET, assert_no_canary, write_toml


def hook_env(path: Path) -> dict[str, str]:
    out = {}
    for ln in path.read_text().splitlines():
        k, _, v = ln.partition("=")
        out[k] = v
    return out


def test_success_hook_gets_the_facts_and_no_credentials(job_config, make_tree, run_cli,
                                                        tmp_path: Path) -> None:
    seen = tmp_path / "hook.env"
    job = job_config(on_success=f"env > {seen}")
    make_tree(job.source, {"a": 100, "b": 50})
    # as systemd's EnvironmentFile= would: credentials in the runner's own environment
    r = run_cli("--config", str(job.config), "run",
                env={"B2_APPLICATION_KEY": CANARY_SECRET, "RCLONE_B2_KEY": CANARY_SECRET})
    assert r.returncode == 0, r.stderr
    env = hook_env(seen)
    assert env["SPACE_MIRROR_OUTCOME"] == "success"
    assert env["SPACE_MIRROR_EXIT_CODE"] == "0"
    assert env["SPACE_MIRROR_JOB"] == "t"
    assert env["SPACE_MIRROR_TRANSFERS"] == "2" and env["SPACE_MIRROR_BYTES"] == "150"
    assert env["SPACE_MIRROR_LOG"] == str(job.log)
    assert env["SPACE_MIRROR_RUN_ID"] in job.log_text()
    assert_no_canary(seen.read_text())


def test_failure_hook_runs_on_failure(job_config, run_cli, tmp_path: Path) -> None:
    seen = tmp_path / "hook.env"
    job = job_config(on_failure=f"env > {seen}")  # the source is empty: pre-flight fails
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 78
    env = hook_env(seen)
    assert env["SPACE_MIRROR_OUTCOME"] == "failed" and env["SPACE_MIRROR_EXIT_CODE"] == "78"
    assert "empty" in env["SPACE_MIRROR_REASON"]


@pytest.mark.parametrize(("hook", "timeout", "problem"), [
    ("exit 3", 10, "hook exited with code 3"),
    ("sleep 300", 0.5, "hook timed out"),
    ("/no/such/program", 10, "hook exited with code 127"),
])
def test_failing_hook_keeps_the_exit_code(job_config, make_tree, run_cli, hook: str,
                                          timeout: float, problem: str) -> None:
    # How long a timed-out hook delays the run is measured by `make bench`
    # (runner-hook-timeout). Here: a hook that would run for 5 minutes is killed and the
    # runner finishes within run_cli's 60 s deadline (else TimeoutExpired fails the test).
    job = job_config(on_success=hook, hook_timeout=timeout)
    make_tree(job.source, {"a": 1})
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 0
    assert problem in r.stderr and "exit code is unchanged" in r.stderr
    assert "Traceback" not in r.stderr
    assert f"space-mirror hook: {problem}" in job.log_text()


@pytest.fixture
def notify_socket() -> Iterator[tuple[socket.socket, str]]:
    # sun_path holds ~108 bytes: pytest's tmp_path can be longer than that
    folder = tempfile.mkdtemp(prefix="smn-", dir="/tmp")
    path = f"{folder}/notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(0.2)
    try:
        yield sock, path
    finally:
        sock.close()
        shutil.rmtree(folder)


def test_systemd_notify_status(job_config, make_tree, run_cli, notify_socket) -> None:
    sock, path = notify_socket
    job = job_config()
    make_tree(job.source, {"a": 1})
    r = run_cli("--config", str(job.config), "run", env={"NOTIFY_SOCKET": path})
    assert r.returncode == 0
    messages = []
    while True:
        try:
            messages.append(sock.recv(4096).decode())
        except TimeoutError:
            break
    assert "STATUS=last run success (exit 0)" in messages


def test_unit_output(job_config, run_cli, tmp_path: Path) -> None:
    env_file = tmp_path / "creds.env"
    job = job_config(name="nightly", env_file=str(env_file))
    r = run_cli("--config", str(job.config), "unit", "--job", "nightly")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "Type=oneshot" in out
    exec_start = next(ln for ln in out.splitlines() if ln.startswith("ExecStart="))
    assert exec_start.endswith(f"--config {job.config} run --job nightly")
    assert f"EnvironmentFile={env_file}" in out
    assert "OnCalendar=*-*-* 03:00:00" in out and "[Timer]" in out
    assert "SuccessExitStatus=75" in out


def test_config_lookup_order(tmp_path: Path, run_cli, make_tree) -> None:
    """--config beats $SPACE_MIRROR_CONFIG; with neither (and no /etc file) the seed job."""
    made = {}
    for name in ("from-flag", "from-env"):
        src = make_tree(tmp_path / name / "src", {"x": 1})
        made[name] = write_toml(tmp_path / f"{name}.toml", {name: {
            "source": str(src), "destination": str(tmp_path / name / "dst"),
            "log_file": str(tmp_path / name / "log"), "require_mount": False,
            "lock_file": str(tmp_path / name / "lock")}})
    env = {"SPACE_MIRROR_CONFIG": str(made["from-env"])}
    r = run_cli("--config", str(made["from-flag"]), "check", "--offline", env=env)
    assert "job 'from-flag'" in r.stdout, r.stdout + r.stderr
    r = run_cli("check", "--offline", env=env)
    assert "job 'from-env'" in r.stdout
    # the CLI's options override the file's
    r = run_cli("check", "--offline", "--source", str(tmp_path / "elsewhere"), env=env)
    assert f"{tmp_path / 'elsewhere'} does not exist" in r.stdout


def test_several_jobs_need_job(tmp_path: Path, run_cli) -> None:
    cfg = write_toml(tmp_path / "c.toml", {"a": {"source": "/x"}, "b": {"source": "/y"}})
    r = run_cli("--config", str(cfg), "check", "--offline")
    assert r.returncode == 64 and "--job" in r.stderr and "a, b" in r.stderr
    r = run_cli("--config", str(cfg), "--job", "b", "check", "--offline")
    assert "job 'b' (/y" in r.stdout
    r = run_cli("--config", str(cfg), "check", "--offline", "--job", "c")
    assert r.returncode == 64 and "'c' is not defined" in r.stderr


def test_summary_json_is_complete(job_config, make_tree, run_cli) -> None:
    job = job_config()
    make_tree(job.source, {"a": 10})
    assert run_cli("--config", str(job.config), "run").returncode == 0
    s = json.loads(job.summary.read_text())
    for key in ("job", "run_id", "mode", "started", "ended", "duration_s", "exit_code",
                "outcome", "reason", "bytes", "transfers", "checks", "deletes", "renames",
                "errors"):
        assert key in s
