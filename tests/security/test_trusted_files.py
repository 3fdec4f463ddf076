"""Issue 20, row 1: what root executes or loads (the rclone binary, a hook's program, the
env file, the config file) must be a file no other user could write or swap.

`nobody` plants each file (or the folder it is in); root's `check` and `run` must refuse
with one line naming the file and the fix (exit 78), and never execute the planted program
(a marker it would create shows whether it ran as root).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from .conftest import as_nobody, root_secret

# A program that says it is rclone 1.75.2 and leaves a mark wherever it runs.
FAKE = "#!/bin/sh\ntouch {marker}\necho 'rclone v1.75.2'\n"


def _plant(folder: Path, name: str, text: str, mode: str = "755") -> Path:
    """As nobody: a folder of nobody's inside `folder` (0777), holding `name`."""
    own = folder / "nobodys"
    path = own / name
    r = as_nobody("sh", "-c", f"mkdir -p {own} && cat > {path} && chmod {mode} {path}")
    assert r.returncode == 0, r.stderr
    r = subprocess.run(["runuser", "-u", "nobody", "--", "sh", "-c", f"cat > {path}"],
                       input=text, text=True, capture_output=True)
    assert r.returncode == 0, r.stderr
    return path


def _refused(r: subprocess.CompletedProcess[str], *words: str) -> None:
    text = r.stdout + r.stderr
    assert r.returncode == 78, (r.returncode, r.stdout, r.stderr)
    assert all(w in text for w in words), (words, text)
    assert "Traceback" not in text


def test_row1_nobodys_rclone_is_never_run(sec_job, open_folder, run_cli) -> None:
    shared = open_folder("bin", 0o777)
    marker = shared / "nobodys" / "ran-as-root"
    fake = _plant(shared, "rclone", FAKE.format(marker=marker))
    job = sec_job(rclone=str(fake))
    (job.source / "a").write_text("a")
    _refused(run_cli("--config", str(job.config), "check", "--offline"), str(fake),
             "other users")
    _refused(run_cli("--config", str(job.config), "run"), str(fake))
    assert not marker.exists(), "root executed nobody's rclone"
    assert not job.dest.exists()


def test_row1_nobodys_hook_is_never_run(sec_job, open_folder, run_cli) -> None:
    shared = open_folder("hooks", 0o777)
    marker = shared / "nobodys" / "hook-ran-as-root"
    hook = _plant(shared, "notify.sh", f"#!/bin/sh\ntouch {marker}\n")
    shared.chmod(0o755)  # only nobody's own folder is left: the file's owner is refused
    job = sec_job(on_success=f"{hook} --quiet", on_failure=str(hook))
    (job.source / "a").write_text("a")
    _refused(run_cli("--config", str(job.config), "check", "--offline"), "hooks", str(hook),
             "65534")
    r = run_cli("--config", str(job.config), "run")
    _refused(r, str(hook))
    assert not marker.exists(), "root executed nobody's hook"


def test_row1_a_trusted_hook_script_runs_through_its_checked_descriptor(sec_job, run_cli,
                                                                        reachable) -> None:
    """The other side: root's own #! script runs (through /proc/self/fd/N, which the
    interpreter can open only because the descriptor survives the exec)."""
    marker = reachable / "hook-ran"
    hook = reachable / "notify.sh"
    hook.write_text(f"#!/bin/sh\necho \"$1\" > {marker}\n")
    hook.chmod(0o755)
    job = sec_job(on_success=f"{hook} done")
    (job.source / "a").write_text("a")
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 0, r.stderr
    assert marker.read_text() == "done\n"


def test_row1_env_file_through_a_shared_folder_is_refused(sec_job, open_folder, run_cli,
                                                          reachable) -> None:
    """nobody's symlink, in a 0777 folder, to a root 0600 file: the check used to pass it
    ("mode 0600, owner uid 0") and a swap between check and read fed root nobody's values."""
    target = root_secret(reachable, "creds.env")
    target.write_text("RCLONE_LOCAL_NOUNC=true\n")
    shared = open_folder("envs", 0o777)
    link = shared / "creds.env"
    assert as_nobody("ln", "-s", str(target), str(link)).returncode == 0
    job = sec_job(env_file=str(link))
    (job.source / "a").write_text("a")
    _refused(run_cli("--config", str(job.config), "check", "--offline"), str(link),
             str(shared))
    _refused(run_cli("--config", str(job.config), "run"), str(link))
    assert not job.dest.exists()


def test_row1_a_config_others_can_write_is_refused(sec_job, run_cli) -> None:
    job = sec_job(on_failure="true")
    (job.source / "a").write_text("a")
    job.config.chmod(0o666)
    # nobody can now rewrite the hooks root would run
    assert as_nobody("sh", "-c", f"echo '# mine' >> {job.config}").returncode == 0
    for command in (["check", "--offline"], ["run"]):
        r = run_cli("--config", str(job.config), *command)
        _refused(r, str(job.config), "chmod go-w")
        assert len([ln for ln in r.stderr.splitlines() if ln.strip()]) == 1
    os.chown(job.config, 65534, 65534)
    job.config.chmod(0o644)
    _refused(run_cli("--config", str(job.config), "run"), str(job.config), "uid 65534")
    assert not job.dest.exists()
