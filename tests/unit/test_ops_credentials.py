"""The env file: parsed, never executed; B2 names mapped into rclone's, in the child's
environment only; secrets redacted wherever we print."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tui.config import Job
from tui.core.remotes import inline_secret_in_remote
from tui.ops import credentials as cr
from tui.ops import preflight

KEY_ID = "CANARY-KEYID-7f3a"
SECRET = "CANARY-SECRET-91bd"


def env_file(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    p = tmp_path / "creds.env"
    p.write_text(text)
    p.chmod(mode)
    return p


def test_b2_names_map_into_the_child_environment_only() -> None:
    base = {"PATH": "/bin", "HOME": "/root"}
    before = dict(os.environ)
    env = cr.child_environment(base, {"B2_APPLICATION_KEY_ID": KEY_ID,
                                      "B2_APPLICATION_KEY": SECRET},
                               {"RCLONE_B2_HARD_DELETE": "true"})
    assert env["RCLONE_B2_ACCOUNT"] == KEY_ID and env["RCLONE_B2_KEY"] == SECRET
    assert "B2_APPLICATION_KEY" not in env and "B2_APPLICATION_KEY_ID" not in env
    assert env["RCLONE_B2_HARD_DELETE"] == "true" and env["PATH"] == "/bin"
    assert base == {"PATH": "/bin", "HOME": "/root"}
    assert dict(os.environ) == before


def test_b2_names_already_in_our_environment_are_mapped() -> None:
    """systemd's EnvironmentFile= puts the seed's names in the runner's own environment."""
    env = cr.child_environment({"B2_APPLICATION_KEY_ID": KEY_ID, "B2_APPLICATION_KEY": SECRET},
                               {}, {})
    assert (env["RCLONE_B2_ACCOUNT"], env["RCLONE_B2_KEY"]) == (KEY_ID, SECRET)


def test_env_file_is_not_executed(tmp_path: Path) -> None:
    pwned = tmp_path / "pwned"
    p = env_file(tmp_path, f'A=$(touch {pwned})\nB=`touch {pwned}`\nC="${{HOME}}"\n'
                           f"export D={SECRET}\n# E=comment\nF='single $(x)'\n")
    values = cr.load_env_file(p)
    assert not pwned.exists()
    assert values["A"] == f"$(touch {pwned})"
    assert values["B"] == f"`touch {pwned}`"
    assert values["C"] == "${HOME}"  # no interpolation either
    assert values["D"] == SECRET and "E" not in values
    assert values["F"] == "single $(x)"


@pytest.mark.parametrize(("setup", "ok", "words"), [
    ("missing", False, ["does not exist"]),
    ("0644", False, ["mode 0644", "chmod 600"]),
    ("0660", False, ["mode 0660"]),
    ("dir", False, ["not a regular file"]),
    ("other-owner", False, ["owned by uid 65534"]),
    ("0600", True, ["mode 0600"]),
    ("0400", True, ["mode 0400"]),
])
def test_check_env_file(tmp_path: Path, setup: str, ok: bool, words: list[str]) -> None:
    p = tmp_path / "creds.env"
    if setup == "dir":
        p.mkdir()
    elif setup != "missing":
        p.write_text(f"RCLONE_B2_KEY={SECRET}\n")
        p.chmod(int(setup, 8) if setup[0] == "0" else 0o600)
        if setup == "other-owner":
            os.chown(p, 65534, 65534)
    check = cr.check_env_file(p)
    assert check.ok is ok
    for w in words:
        assert w in check.detail + " " + check.fix
    assert SECRET not in check.detail + check.fix


def test_load_env_file_errors(tmp_path: Path) -> None:
    with pytest.raises(cr.CredentialError, match="does not exist"):
        cr.load_env_file(tmp_path / "none")
    with pytest.raises(cr.CredentialError, match="is a directory"):
        cr.load_env_file(tmp_path)
    bad = tmp_path / "latin1.env"
    bad.write_bytes(b"A=caf\xe9\n")
    with pytest.raises(cr.CredentialError, match="not valid UTF-8"):
        cr.load_env_file(bad)


def test_missing_credentials_names_not_values() -> None:
    assert cr.missing_credentials("b2", {"RCLONE_B2_ACCOUNT": KEY_ID}) == ["RCLONE_B2_KEY"]
    assert cr.missing_credentials("b2", {}) == ["RCLONE_B2_ACCOUNT", "RCLONE_B2_KEY"]
    assert cr.missing_credentials("s3", {"RCLONE_S3_ENV_AUTH": "true"}) == []
    assert cr.missing_credentials("local", {}) == []


def test_preflight_b2_without_key(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_text("x")
    job = Job(source=str(src), destination=":b2:bucket", require_mount=False,
              env_file=env_file(tmp_path, f"B2_APPLICATION_KEY_ID={KEY_ID}\n"),
              env_file_is_default=False, log_file=tmp_path / "log",
              lock_file=tmp_path / "lock")
    results, ctx = preflight.run_checks(job, offline=True, environ={"PATH": "/usr/bin"})
    bad = preflight.failed(results)
    assert [r.name for r in bad] == ["credentials"]
    assert "RCLONE_B2_KEY" in bad[0].detail and "B2_APPLICATION_KEY" in bad[0].fix
    assert KEY_ID in ctx.secrets
    assert all(KEY_ID not in r.line() for r in results)
    assert ctx.env is not None and ctx.env["RCLONE_B2_ACCOUNT"] == KEY_ID
    assert "RCLONE_B2_ACCOUNT" not in os.environ


def test_secret_values() -> None:
    found = cr.secret_values({"A": SECRET, "B": "true", "C": "ab", "D": "1"},
                             {"RCLONE_S3_SECRET_ACCESS_KEY": "s3cr3t-value",
                              "RCLONE_S3_PROVIDER": "Rclone", "RCLONE_B2_HARD_DELETE": "true",
                              "PATH": "/usr/bin"})
    assert found == {SECRET, "s3cr3t-value"}


def test_redact() -> None:
    text = f"key={KEY_ID} secret={SECRET} again {SECRET}; short CANARY"
    out = cr.redact(text, {KEY_ID, SECRET, "CANARY"})
    assert KEY_ID not in out and SECRET not in out and "CANARY" not in out
    assert out.count("***") == 4
    # a secret that contains another is replaced whole, not left half-visible
    assert cr.redact("abcdef", {"abc", "abcdef"}) == "***"
    assert cr.redact("nothing here", set()) == "nothing here"
    assert cr.redact("x", {""}) == "x"


@pytest.mark.parametrize(("dest", "inline"), [
    (f":s3,provider=Rclone,secret_access_key={SECRET}:bucket", True),
    (f":s3,access_key_id={KEY_ID}:bucket", True),
    (f":b2,account={KEY_ID},key={SECRET}:bucket", True),
    (f":sftp,host=h,pass={SECRET}:", True),
    (f"remote,token={SECRET}:path", True),
    (":s3,provider=Rclone,endpoint='http://127.0.0.1:9':bucket", False),
    (":b2:bucket", False),
    ("remote:path", False),
    ("/srv/mirror", False),
    ("/srv/key=value,x", False),
])
def test_inline_secret_in_remote(dest: str, inline: bool) -> None:
    assert inline_secret_in_remote(dest) is inline
