"""Failures before rclone starts: each one has its exit code and a one-line reason, no
traceback, and no secret anywhere."""

from __future__ import annotations

import ctypes
import subprocess
from pathlib import Path

import pytest
from sm_testkit import (
    CANARY_KEY_ID,
    CANARY_SECRET,
    JobFiles,
    assert_no_canary,
    free_port,
    s3_env_lines,
)

from tui.core.markers import MarkerKind, parse_marker

PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE = 1
CAP_DAC_READ_SEARCH = 2


def error_lines(r: subprocess.CompletedProcess[str]) -> list[str]:
    assert "Traceback" not in r.stderr + r.stdout, r.stderr
    return [ln for ln in r.stderr.splitlines() if ln.strip()]


def assert_one_line(r: subprocess.CompletedProcess[str], code: int, *words: str,
                    job: JobFiles | None = None) -> str:
    """Exit `code`, one stderr line holding `words`, and no canary in any output or in the
    job's log (when given)."""
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    if job is not None:
        assert_no_canary(job.log_text())
    lines = error_lines(r)
    assert len(lines) == 1, lines
    for w in words:
        assert w in lines[0], (w, lines[0])
    assert_no_canary(r.stdout, r.stderr)
    return lines[0]


def last_end_marker(job: JobFiles):  # type: ignore[no-untyped-def]
    ends = [m for m in (parse_marker(ln) for ln in job.log_text().splitlines())
            if m and m.kind is not MarkerKind.START]
    return ends[-1] if ends else None


@pytest.fixture
def ready_job(job_config, make_tree):  # type: ignore[no-untyped-def]
    def make(**keys: object) -> JobFiles:
        job = job_config(**keys)
        make_tree(job.source, {"a.txt": 100, "d/b.txt": 200})
        return job
    return make


def test_rclone_missing(ready_job, run_cli) -> None:
    job = ready_job()
    r = run_cli("--config", str(job.config), "run", "--rclone", "/nonexistent/rclone")
    assert_one_line(r, 78, "rclone", "/nonexistent/rclone")
    end = last_end_marker(job)
    assert end is not None and end.exit_code == 78 and "rclone" in end.fields["reason"]
    assert not job.dest.exists()


def env_job(ready_job, tmp_path: Path, content: str | None, mode: int = 0o600,
            **keys: object) -> JobFiles:
    env_file = tmp_path / "creds.env"
    if content is not None:
        env_file.write_text(content)
        env_file.chmod(mode)
    return ready_job(env_file=str(env_file), **keys)


def test_env_file_missing(ready_job, run_cli, tmp_path: Path) -> None:
    job = env_job(ready_job, tmp_path, None)
    r = run_cli("--config", str(job.config), "run")
    assert_one_line(r, 78, "env file", "does not exist", job=job)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_env_file_readable_by_others(ready_job, run_cli, tmp_path: Path, mode: int) -> None:
    job = env_job(ready_job, tmp_path, s3_env_lines(1), mode)
    r = run_cli("--config", str(job.config), "run")
    line = assert_one_line(r, 78, "env file", f"{mode:04o}", "chmod 600", job=job)
    assert CANARY_SECRET not in line


def _drop_dac_capabilities() -> None:
    # Root reads any file: drop the capabilities that let it, so that a mode-000 file is as
    # unreadable to this "root" as to anyone (running as `nobody` is not possible here:
    # the interpreter lives under /root, mode 0700).
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def test_env_file_unreadable(ready_job, run_cli, tmp_path: Path) -> None:
    # (allow_shared_dirs: the job says its folders are meant to be reachable)
    job = env_job(ready_job, tmp_path, s3_env_lines(1), 0o000, allow_shared_dirs=True)
    # the mode-000 file is ours; everything else the CLI touches must stay reachable (root
    # owns these folders: without DAC_OVERRIDE it still has the owner's rights; 0777 would
    # make the config untrusted, issue 20 row 1)
    for p in (tmp_path, tmp_path / "home", job.base):
        p.chmod(0o755)
    r = run_cli("--config", str(job.config), "run", preexec_fn=_drop_dac_capabilities)
    assert_one_line(r, 78, "env file", "not readable", job=job)
    # proof that the capability drop worked: the same "root" could not read it either
    probe = subprocess.run(["cat", str(tmp_path / "creds.env")], capture_output=True,
                           preexec_fn=_drop_dac_capabilities)
    assert probe.returncode != 0


def test_b2_credentials_missing(ready_job, run_cli, tmp_path: Path) -> None:
    env_file = tmp_path / "b2.env"
    env_file.write_text(f"B2_APPLICATION_KEY_ID={CANARY_KEY_ID}\n")
    env_file.chmod(0o600)
    job = ready_job(destination=":b2:bucket", env_file=str(env_file))
    r = run_cli("--config", str(job.config), "check", "--offline")
    assert r.returncode == 78
    assert "Traceback" not in r.stderr + r.stdout
    bad = [ln for ln in r.stdout.splitlines() if ln.startswith("✗")]
    assert len(bad) == 1 and "RCLONE_B2_KEY" in bad[0] and "B2_APPLICATION_KEY" in bad[0]
    ok = [ln for ln in r.stdout.splitlines() if ln.startswith("✓ env file")]
    assert ok
    assert_no_canary(r.stdout, r.stderr)


def test_source_missing(job_config, run_cli, tmp_path: Path) -> None:
    job = job_config(source=str(tmp_path / "gone"))
    r = run_cli("--config", str(job.config), "run")
    assert_one_line(r, 78, "source", "does not exist")


def test_source_empty(job_config, run_cli) -> None:
    job = job_config()
    (job.source / "lost+found").mkdir()  # an empty file system still has this
    r = run_cli("--config", str(job.config), "run")
    assert_one_line(r, 78, "source", "is empty")
    assert not job.dest.exists()


def test_source_not_a_mount_point(ready_job, run_cli) -> None:
    job = ready_job(require_mount=True)
    r = run_cli("--config", str(job.config), "run")
    assert_one_line(r, 78, "not a mount point", "require_mount")


@pytest.fixture
def tmpfs(tmp_path: Path):  # type: ignore[no-untyped-def]
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def test_require_mount_passes_on_a_real_mount(job_config, make_tree, run_cli, tmpfs: Path,
                                              tree_digest) -> None:
    make_tree(tmpfs, {"x.bin": 5000, "y/z.txt": "hi"})
    job = job_config(source=str(tmpfs), require_mount=True)
    r = run_cli("--config", str(job.config), "check", "--offline")
    assert r.returncode == 0, r.stdout
    assert f"✓ mount: {tmpfs} is a mount point" in r.stdout
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 0, r.stderr
    assert tree_digest(job.dest) == tree_digest(tmpfs)


@pytest.mark.parametrize("flags", [
    ["-vv"], ["-vvv"], ["--dump", "headers"], ["--dump=bodies"], ["--dump-headers"],
    ["--log-level", "DEBUG"], ["--log-level=debug"],
])
def test_refused_flags(ready_job, run_cli, flags: list[str]) -> None:
    job = ready_job(flags=flags)
    r = run_cli("--config", str(job.config), "run")
    assert_one_line(r, 78, "flags", flags[0].split("=")[0])
    assert not job.dest.exists()


def test_inline_secret_in_destination(ready_job, run_cli) -> None:
    job = ready_job(destination=f":s3,provider=Rclone,secret_access_key={CANARY_SECRET}:b")
    r = run_cli("--config", str(job.config), "check", "--offline")
    assert r.returncode == 78
    assert any("carries a credential" in ln for ln in r.stdout.splitlines())


def test_remote_down(ready_job, run_cli, tmp_path: Path) -> None:
    port = free_port()  # nobody listens there
    env_file = tmp_path / "s3.env"
    env_file.write_text(s3_env_lines(port))
    env_file.chmod(0o600)
    job = ready_job(destination=":s3:bucket", env_file=str(env_file), remote_timeout=10)
    r = run_cli("--config", str(job.config), "run")
    line = assert_one_line(r, 78, "destination", "connection refused", job=job)
    assert f"127.0.0.1:{port}" in line
    assert_no_canary(job.log_text())
    end = last_end_marker(job)
    assert end is not None and "connection refused" in end.fields["reason"]


def test_bad_config_is_one_line(tmp_path: Path, run_cli) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[jobs.t]\nsource = \n")
    r = run_cli("--config", str(cfg), "run")
    assert r.returncode == 64
    lines = error_lines(r)
    assert len(lines) == 1 and "not valid TOML" in lines[0]
    cfg.write_text('[jobs.t]\nsource = "/x"\nsourec = "/y"\n')
    r = run_cli("--config", str(cfg), "run")
    assert r.returncode == 64 and "unknown key 'sourec'" in r.stderr
    r = run_cli("--config", str(tmp_path / "nope.toml"), "run")
    assert r.returncode == 64 and "does not exist" in r.stderr
    assert "Traceback" not in r.stderr


def test_usage_error_is_64(run_cli) -> None:
    r = run_cli("run", "--no-such-flag")
    assert r.returncode == 64 and "Traceback" not in r.stderr
    assert "unrecognized arguments: --no-such-flag" in r.stderr
