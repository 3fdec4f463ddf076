"""Real runs of real rclone, through the seed's legacy wrapper and through our runner.

Used by the history tests (to make logs in a temporary folder) and by
`tests/fixtures/make_history_logs.py` (to record the fixed fixture log the snapshots use).
Nothing here fakes rclone output: every line in these logs was written by rclone 1.75,
by the wrapper's `echo`, or by our runner.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[2]
RCLONE = str(Path(sys.executable).parent / "rclone")
WRAPPER = REPO / "tests" / "fixtures" / "legacy_wrapper.sh"
DEADLINE = 30.0


def wait_for(check: Callable[[], bool], what: str, timeout: float = DEADLINE) -> None:
    """Poll `check` until true, or fail the test after `timeout` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def make_tree(root: Path, files: dict[str, int]) -> None:
    for name, size in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(bytes((i * 7 + len(name)) % 251 for i in range(size)))


def closed_port() -> int:
    """A 127.0.0.1 port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def s3_down_env(port: int) -> dict[str, str]:
    """An S3 remote on a closed local port: connection refused, quickly, once."""
    return {
        "RCLONE_S3_PROVIDER": "Other",
        "RCLONE_S3_ENDPOINT": f"http://127.0.0.1:{port}",
        "RCLONE_S3_ACCESS_KEY_ID": "test-access-key",
        "RCLONE_S3_SECRET_ACCESS_KEY": "test-secret-key",
        "RCLONE_RETRIES": "1",
        "RCLONE_LOW_LEVEL_RETRIES": "1",
        "RCLONE_CONTIMEOUT": "2s",
    }


def _base_env(extra: dict[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RCLONE_", "B2_"))}
    env["RCLONE_CONFIG"] = "/dev/null"  # never read a developer's rclone.conf
    env.update(extra or {})
    return env


# --- the legacy wrapper ------------------------------------------------------------------------
def wrapper_env(source: Path | str, dest: str, log: Path,
                extra: dict[str, str] | None = None) -> dict[str, str]:
    env = _base_env(extra)
    env.update({"SOURCE": str(source), "DEST": dest, "LOG_FILE": str(log), "RCLONE": RCLONE,
                "B2_APPLICATION_KEY_ID": "unused-key-id", "B2_APPLICATION_KEY": "unused-key"})
    return env


def run_wrapper(source: Path | str, dest: str, log: Path,
                extra: dict[str, str] | None = None) -> int:
    proc = subprocess.run(["bash", str(WRAPPER)], env=wrapper_env(source, dest, log, extra),
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, timeout=60)
    return proc.returncode


def _rclone_child(parent: psutil.Process) -> psutil.Process | None:
    for child in parent.children(recursive=True):
        try:
            if Path(child.exe()).name == "rclone":
                return child
        except psutil.Error:
            continue
    return None


def _log_size(log: Path) -> int:
    try:
        return log.stat().st_size
    except OSError:
        return 0


def _log_has(log: Path, needle: bytes, since: int) -> bool:
    try:
        with log.open("rb") as fh:
            fh.seek(since)
            return needle in fh.read()
    except OSError:
        return False


def slow_tree(root: Path) -> None:
    """Enough bytes that a bandwidth-limited sync runs for a while."""
    make_tree(root, {"big/blob1.bin": 2_000_000, "big/blob2.bin": 2_000_000})


def copying_rclone(proc: subprocess.Popen[bytes], log: Path, since: int) -> psutil.Process:
    """The rclone that `proc` (the wrapper or our runner) started, once it is copying."""
    parent = psutil.Process(proc.pid)
    found: list[psutil.Process] = []

    def rclone_copying() -> bool:
        child = _rclone_child(parent)
        if child is None:
            return False
        found[:] = [child]
        return _log_has(log, b"Finished making map for --track-renames", since)

    wait_for(rclone_copying, "rclone to start copying")
    return found[0]


def _default_signal_actions() -> None:
    """What systemd gives a unit: SIGHUP and SIGINT at their defaults. Under `nohup` (or a
    shell that ignores SIGINT for background jobs) they would be ignored, bash could not
    reset them, and rclone, which keeps an inherited "ignore", would never die of them."""
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wrapper_interrupted(source: Path, dest: str, log: Path, sig: signal.Signals) -> int:
    """Start the wrapper on a slow sync; once rclone is copying, send `sig`.

    SIGTERM goes to rclone (as systemd's stop does to the whole unit): rclone exits 143 and the
    wrapper writes its FAILED marker. SIGKILL goes to both: no end marker at all."""
    env = wrapper_env(source, dest, log, {"RCLONE_BWLIMIT": "200k"})
    since = _log_size(log)
    proc = subprocess.Popen(["bash", str(WRAPPER)], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=_default_signal_actions)
    box: list[psutil.Process] = []
    try:
        box.append(copying_rclone(proc, log, since))
        if sig is signal.SIGKILL:
            proc.kill()
        box[0].send_signal(sig)
        code = proc.wait(timeout=DEADLINE)
        with contextlib.suppress(psutil.Error):
            box[0].wait(timeout=DEADLINE)  # gone before the next scenario starts
        return code
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# --- our runner ---------------------------------------------------------------------------------
def write_config(base: Path, source: Path | str, dest: str, log: Path,
                 env: dict[str, str] | None = None, name: str = "t") -> Path:
    """A job config; `env` goes to an env file (mode 0600), as credentials do."""
    cfg = base / f"{name}.toml"
    env_file = base / f"{name}.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in (env or {}).items()))
    env_file.chmod(0o600)
    lines = [
        f"[jobs.{name}]",
        f'source = "{source}"',
        f'destination = "{dest}"',
        'flags = ["--transfers", "4", "--track-renames"]',
        f'log_file = "{log}"',
        f'lock_file = "{base / (name + ".lock")}"',
        f'metrics_file = "{base / (name + ".prom")}"',
        f'summary_file = "{base / (name + ".json")}"',
        "require_mount = false",
        "min_source_ratio = 0.0",
        "abort_grace = 5.0",
        f'env_file = "{env_file}"',
    ]
    cfg.write_text("\n".join(lines) + "\n")
    return cfg


def runner_argv(cfg: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "tui", "--config", str(cfg), "run", "--offline", *extra]


def run_runner(cfg: Path, *extra: str, env: dict[str, str] | None = None) -> int:
    proc = subprocess.run(runner_argv(cfg, *extra), env=_base_env(env), cwd=REPO,
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, timeout=60)
    return proc.returncode


def _slow_runner(cfg: Path) -> subprocess.Popen[bytes]:
    """Our runner on a sync slowed to 200 KiB/s, in a session of its own."""
    return subprocess.Popen(runner_argv(cfg), env=_base_env({"RCLONE_BWLIMIT": "200k"}),
                            cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def runner_interrupted(cfg: Path, log: Path, sig: signal.Signals) -> int:
    """Start our runner on a slow sync; once rclone is copying, SIGTERM the runner (an
    operator's abort) or SIGKILL the runner and rclone (no end marker)."""
    since = _log_size(log)
    proc = _slow_runner(cfg)
    box: list[psutil.Process] = []
    try:
        box.append(copying_rclone(proc, log, since))
        if sig is signal.SIGKILL:
            # The runner first: killed second, it could still see rclone die and write a
            # (truthful) "FAILED with exit code 137" marker, which is not this scenario.
            proc.kill()
            proc.wait(timeout=DEADLINE)
            box[0].kill()
        else:
            proc.send_signal(sig)
        return proc.wait(timeout=DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for child in box:
            # rclone holds the job lock (it inherits the descriptor) until it is really gone.
            with contextlib.suppress(psutil.Error):
                child.kill()
                child.wait(timeout=DEADLINE)


def rclone_killed(cfg: Path, log: Path) -> int:
    """Start our runner on a slow sync; once rclone is copying, SIGKILL rclone alone (what
    the OOM killer does): the runner sees it die and ends the run. Its exit code."""
    since = _log_size(log)
    proc = _slow_runner(cfg)
    try:
        copying_rclone(proc, log, since).kill()
        return proc.wait(timeout=DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# --- rotation -----------------------------------------------------------------------------------
def rotate(log: Path, keep: int = 5, compress_from: int = 2) -> None:
    """What logrotate does with `rotate N`, `compress`, `delaycompress`:
    FILE → FILE.1, FILE.1 → FILE.2.gz, FILE.2.gz → FILE.3.gz …"""
    for n in range(keep, 0, -1):
        gz = log.with_name(f"{log.name}.{n}.gz")
        plain = log.with_name(f"{log.name}.{n}")
        if gz.exists():
            gz.rename(log.with_name(f"{log.name}.{n + 1}.gz"))
        if plain.exists():
            if n + 1 >= compress_from:
                with plain.open("rb") as fin, \
                        gzip.open(log.with_name(f"{log.name}.{n + 1}.gz"), "wb") as fout:
                    shutil.copyfileobj(fin, fout)
                plain.unlink()
            else:
                plain.rename(log.with_name(f"{log.name}.{n + 1}"))
    if log.exists():
        log.rename(log.with_name(f"{log.name}.1"))


# --- the whole set of scenarios ------------------------------------------------------------------
class Expect(dict[str, object]):
    """What the history must say about one run (only the keys given are checked)."""


def all_scenarios(base: Path, log: Path, who: str) -> list[Expect]:
    """Run every scenario once through `who` ("wrapper" or "runner"), appending to `log`.

    Returns what each run must look like in the history, in order. Trees are tiny: the
    whole set takes a second or two."""
    tag = f"{who}-"
    src, dst = base / f"{tag}src", base / f"{tag}dst"
    make_tree(src, {"a/1.txt": 1000, "a/2.txt": 2000, "b/3.txt": 3000})
    port = closed_port()
    expected: list[Expect] = []

    def sync(source: Path | str, dest: str, name: str, env: dict[str, str] | None = None) -> int:
        if who == "wrapper":
            return run_wrapper(source, dest, log, env)
        cfg = write_config(base, source, dest, log, env=env, name=f"{tag}{name}")
        return run_runner(cfg)

    # 1. success: three new files.
    assert sync(src, str(dst), "ok") == 0
    expected.append(Expect(outcome="success", exit_code=0, transfers=3, bytes=6000, deletes=0,
                           renames=0, errors=0))
    # 2. a rename and a delete (the runner's delete guard allows 1 of 3).
    (src / "a" / "1.txt").rename(src / "a" / "1-renamed.txt")
    (dst / "stale.txt").write_text("old\n")
    assert sync(src, str(dst), "moves") == 0
    expected.append(Expect(outcome="success", exit_code=0, transfers=0, deletes=1, renames=1,
                           errors=0))
    # 3. the source is missing: rclone exits 3; our pre-flight refuses with 78.
    code = sync(base / "no-such-source", str(dst), "missing")
    if who == "wrapper":
        assert code == 3
        expected.append(Expect(outcome="failed", exit_code=3, deletes=0,
                               classes={"source-missing"}, deletes_skipped=True))
    else:
        assert code == 78
        expected.append(Expect(outcome="failed", exit_code=78, deletes=0, transfers=0))
    # 4. an IO error at the destination (a file where a folder must go): deletes skipped.
    make_tree(src, {"c/new.txt": 10})
    (dst / "c").write_text("in the way\n")
    (dst / "stale2.txt").write_text("old\n")
    assert sync(src, str(dst), "io", {"RCLONE_RETRIES": "1"}) == 1
    expected.append(Expect(outcome="failed", exit_code=1, deletes=0, deletes_skipped=True,
                           classes={"io"}, failed_files={"c/new.txt"}, errors=1))
    (dst / "c").unlink()
    # 5. the remote is down: an S3 endpoint on a closed port.
    assert sync(src, ":s3:bucket", "down", s3_down_env(port)) == 5
    expected.append(Expect(outcome="failed", exit_code=5, classes={"network"},
                           deletes_skipped=True, errors=1))
    # 6. aborted with SIGTERM while copying; 7. killed with SIGKILL (no end marker).
    slow = base / f"{tag}slow"
    slow_tree(slow)
    if who == "wrapper":
        assert wrapper_interrupted(slow, str(base / f"{tag}slowdst"), log,
                                   signal.SIGTERM) == 143
        expected.append(Expect(outcome="aborted", exit_code=143))
        assert wrapper_interrupted(slow, str(base / f"{tag}slowdst"), log,
                                   signal.SIGKILL) == -9
    else:
        cfg = write_config(base, slow, str(base / f"{tag}slowdst"), log, name=f"{tag}slow")
        assert runner_interrupted(cfg, log, signal.SIGTERM) == 143
        expected.append(Expect(outcome="aborted", exit_code=143, transfers=0))
        assert runner_interrupted(cfg, log, signal.SIGKILL) == -9
    expected.append(Expect(outcome="incomplete", exit_code=None))
    return expected
