"""Issue 11, rows 4, 5 and 11: secrets around the run.

Row 4: under the unit's EnvironmentFile=, every env-file variable is in the runner's own
environment; none may reach a hook, whatever its name. Row 5: the environment twins of the
leaky flags are refused wherever they come from. Row 11: redaction masks secret-looking
values only, and only as whole tokens.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tui.ops import credentials

SAS = "https://acct.blob.core.windows.net/c?sv=2022-11-02&sig=CANARY-sas-5b2e"
WEBDAV = "https://backup:CANARY-webdav-77a1@dav.example.net/remote.php"
NTFY = "Bearer tk_CANARY-ntfy-9c0d"
ENV_FILE_LINES = (f"RCLONE_AZUREBLOB_SAS_URL={SAS}\nRCLONE_WEBDAV_URL={WEBDAV}\n"
                  f"NTFY_AUTH={NTFY}\nSLACK_HOOK_NAME=ops-channel\n")


def _env_file(folder: Path, text: str) -> Path:
    p = folder / "creds.env"
    p.write_text(text)
    p.chmod(0o600)
    return p


def test_row4_hooks_get_no_env_file_variable(sec_job, run_cli, reachable: Path) -> None:
    env_file = _env_file(reachable, ENV_FILE_LINES)
    seen = reachable / "hook-env"
    job = sec_job(env_file=str(env_file), on_success=f"env > {seen}")
    (job.source / "a").write_text("a")
    # systemd's EnvironmentFile= put the same variables into the runner's environment
    unit_env = {"RCLONE_AZUREBLOB_SAS_URL": SAS, "RCLONE_WEBDAV_URL": WEBDAV, "NTFY_AUTH": NTFY,
                "SLACK_HOOK_NAME": "ops-channel"}
    r = run_cli("--config", str(job.config), "run", env=unit_env)
    assert r.returncode == 0, r.stderr
    text = seen.read_text()
    for needle in ("CANARY", "SAS_URL", "WEBDAV_URL", "NTFY_AUTH", "SLACK_HOOK_NAME"):
        assert needle not in text, f"{needle} reached the hook"
    assert "SPACE_MIRROR_OUTCOME=success" in text and "PATH=" in text


@pytest.mark.parametrize(("name", "value"), [
    ("RCLONE_DUMP", "headers,auth"), ("RCLONE_LOG_LEVEL", "DEBUG"), ("RCLONE_VERBOSE", "2")])
@pytest.mark.parametrize("where", ["job env", "process environment", "env file"])
def test_row5_leaky_rclone_variables_are_refused(sec_job, run_cli, reachable: Path, name: str,
                                                 value: str, where: str) -> None:
    keys: dict[str, object] = {}
    proc_env: dict[str, str] = {}
    if where == "job env":
        keys["env"] = {name: value}
    elif where == "env file":
        keys["env_file"] = str(_env_file(reachable, f"{name}={value}\n"))
    else:
        proc_env[name] = value
    job = sec_job(**keys)
    (job.source / "a").write_text("a")
    c = run_cli("--config", str(job.config), "check", "--offline", env=proc_env)
    assert c.returncode == 78
    assert any(ln.startswith("✗ environment:") and name in ln for ln in c.stdout.splitlines())
    r = run_cli("--config", str(job.config), "run", env=proc_env)
    assert r.returncode == 78 and name in r.stderr
    assert not job.dest.exists()


def test_row11_redaction_leaves_numbers_and_words_alone(sec_job, run_cli,
                                                        reachable: Path) -> None:
    env_file = _env_file(reachable, "RCLONE_SFTP_PORT=2222\nVENDOR=other\n"
                                    "RCLONE_SFTP_PASS=CANARY-pass-3f1c\n")
    job = sec_job(env_file=str(env_file))
    (job.source / "f.bin").write_bytes(os.urandom(2222))
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 0, r.stderr
    log = job.log.read_text()
    assert " bytes=2222 " in log and "***" not in log
    assert "2.2 KiB" in r.stdout or "2222" in r.stdout
    assert "***" not in r.stdout


def test_row11_secret_values_are_the_secret_looking_ones() -> None:
    env_file = {"RCLONE_SFTP_PORT": "2222", "VENDOR": "other", "REGION": "eu-central-1",
                "RCLONE_SFTP_PASS": "hunter2", "API": "tok9f8e7d6c5b4a3", "URL": WEBDAV,
                "SAS": SAS}
    found = credentials.secret_values(env_file, {})
    assert "2222" not in found and "other" not in found and "eu-central-1" not in found
    assert {"hunter2", "tok9f8e7d6c5b4a3", WEBDAV, "CANARY-webdav-77a1", SAS} <= found
    text = "not otherwise: bytes=2222 port 22220 pw hunter2; dav CANARY-webdav-77a1 failed"
    out = credentials.redact(text, found)
    assert out == "not otherwise: bytes=2222 port 22220 pw ***; dav *** failed"


def test_issue22_redaction_never_cuts_into_our_own_job_name(sec_job, run_cli,
                                                            reachable: Path) -> None:
    """A password that is also a word of the job's name (and so of its paths): the start
    marker said `job=***-sftp`. Values are redacted; our own identifiers never are."""
    env_file = _env_file(reachable, "RCLONE_SFTP_PASS=nas7x\n")
    job = sec_job(name="nas7x-sftp", env_file=str(env_file))
    (job.source / "f.bin").write_bytes(b"data")
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 0, r.stderr
    log = job.log.read_text()
    assert "job=nas7x-sftp" in log, log[:400]
    for text in (log, r.stdout, r.stderr):
        assert "***-sftp" not in text, text[:400]


def test_issue22_a_secret_is_still_redacted_beside_a_kept_name() -> None:
    keep = credentials.identifiers("nas7x-sftp", "/srv/nas7x-sftp", "/mnt/nas7x", "/log")
    line = "job=nas7x-sftp src=/srv/nas7x-sftp dst=/mnt/nas7x pass=nas7x"
    assert credentials.redact(line, {"nas7x"}, keep) == \
        "job=nas7x-sftp src=/srv/nas7x-sftp dst=/mnt/nas7x pass=***"
    assert credentials.redact(line, {"nas7x"}).count("***") == 4  # without keep: cut in
