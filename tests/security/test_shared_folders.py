"""Issue 11, row 6: files we write in a folder another user can write to.

The attacker (`nobody`) watches the folder with inotify and swaps our temp file for a
symlink to a root-only file, or plants a symlink where the log will be. Root's runner must
neither change that file's mode nor write into it, and the pre-flight must name the folder.
"""

from __future__ import annotations

import stat
import time
from pathlib import Path

from .conftest import (
    SYSTEM_PYTHON,
    as_nobody,
    nobody_popen,
    popen_cli,
    root_secret,
    stop_group,
)

# As nobody: on every new `.metrics.prom.*` temp file, move it away and put a symlink to
# TARGET under its name (what a chmod-by-path then follows).
SWAPPER = r"""
import ctypes, os, struct, sys
folder, target = sys.argv[1], sys.argv[2]
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init()
if fd < 0 or libc.inotify_add_watch(fd, folder.encode(), 0x100) < 0:  # IN_CREATE
    print("inotify failed", flush=True); sys.exit(1)
print("ready", flush=True)
while True:
    buf = os.read(fd, 65536)
    i = 0
    while i < len(buf):
        _wd, _mask, _cookie, n = struct.unpack_from("iIII", buf, i)
        name = buf[i + 16:i + 16 + n].rstrip(b"\0").decode()
        i += 16 + n
        if name.startswith(".metrics.prom."):
            p = os.path.join(folder, name)
            try:
                os.rename(p, p + ".moved")
                os.symlink(target, p)
                print("swapped", flush=True)
            except OSError as exc:
                print("missed", exc, flush=True)
"""


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _scene(sec_job, open_folder, reachable: Path, folder: str, key: str, name: str):
    """A 0777 folder, a root-only target beside it, and a job whose `key` file lives in
    that folder under `name`."""
    shared = open_folder(folder, 0o777)
    target = root_secret(reachable)
    job = sec_job(**{key: str(shared / name)})
    (job.source / "a").write_text("a")
    return shared, target, job


def test_row6_swapped_temp_file_never_gets_a_root_file_chmodded(sec_job, open_folder,
                                                                 run_cli, reachable) -> None:
    shared, target, job = _scene(sec_job, open_folder, reachable, "textfiles", "metrics_file",
                                 "metrics.prom")
    swapper = nobody_popen(SYSTEM_PYTHON, "-c", SWAPPER, str(shared), str(target))
    try:
        assert swapper.stdout is not None
        assert swapper.stdout.readline().strip() == "ready"
        r = run_cli("--config", str(job.config), "run")
    finally:
        stop_group(swapper)
    assert _mode(target) == 0o600, "a root-only file became readable by others"
    assert target.read_text() == "root's precious content\n"
    metrics = shared / "metrics.prom"
    assert not metrics.is_symlink()
    assert "Traceback" not in r.stderr


def test_row6_symlinked_log_in_a_shared_folder_is_not_followed(sec_job, open_folder,
                                                               run_cli, reachable) -> None:
    shared, target, job = _scene(sec_job, open_folder, reachable, "logs", "log_file",
                                 "mirror.log")
    assert as_nobody("ln", "-s", str(target), str(shared / "mirror.log")).returncode == 0
    r = run_cli("--config", str(job.config), "run")
    assert target.read_text() == "root's precious content\n"
    assert r.returncode == 78, (r.stdout, r.stderr)
    assert not job.dest.exists()


def test_row6_preflight_names_folders_others_can_write(sec_job, open_folder, run_cli) -> None:
    shared = open_folder("state", 0o1777)  # sticky, like /tmp: others still plant names
    job = sec_job(summary_file=str(shared / "summary.json"))
    (job.source / "a").write_text("a")
    c = run_cli("--config", str(job.config), "check", "--offline")
    assert c.returncode == 78
    line = next(ln for ln in c.stdout.splitlines() if "folders" in ln)
    assert line.startswith("✗") and str(shared) in line and "allow_shared_dirs" in line
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 78 and "other users can write" in r.stderr
    assert not job.dest.exists()
    # The operator opts in: the run goes ahead, and `check` still says so.
    job.config.write_text(job.config.read_text() + "allow_shared_dirs = true\n")
    c = run_cli("--config", str(job.config), "check", "--offline")
    assert any(ln.startswith("✓ folders: warning:") for ln in c.stdout.splitlines()), c.stdout
    assert run_cli("--config", str(job.config), "run").returncode == 0


def test_a_symlinked_metrics_file_is_never_read_into_ours(sec_job, open_folder, cli_env,
                                                          reachable) -> None:
    """The start-of-run textfile keeps the last run's series by re-reading the old file. In a
    folder the operator allowed to be shared, `nobody` points that name at a root-only file:
    root must not copy its content into the world-readable metrics file it writes while the
    run goes on (nor into the summary, whose old JSON keys are carried the same way)."""
    shared = open_folder("textfiles", 0o777)
    target = root_secret(reachable)
    job = sec_job(metrics_file=str(shared / "metrics.prom"), allow_shared_dirs=True,
                  flags=["--transfers", "1", "--bwlimit", "1M"])
    (job.source / "big.bin").write_bytes(b"x" * (2 << 20))  # ~2 s: time to look
    assert as_nobody("ln", "-s", str(target), str(shared / "metrics.prom")).returncode == 0
    proc = popen_cli("--config", str(job.config), "run", env=cli_env)
    seen: set[str] = set()
    while proc.poll() is None:  # everything we write while the run goes on, as nobody sees it
        for path in (*shared.iterdir(), job.base / "summary.json"):
            try:
                if path.is_file() and not path.is_symlink():
                    seen.add(path.read_text(errors="replace"))
            except OSError:
                continue
        time.sleep(0.01)  # a sampling interval, not a synchronisation
    _, err = proc.communicate(timeout=30)
    assert seen, "the run wrote nothing to look at"
    assert not any("precious" in text for text in seen)
    assert target.read_text() == "root's precious content\n" and _mode(target) == 0o600
    assert "symbolic link" in err and "Traceback" not in err  # said, with what to do
