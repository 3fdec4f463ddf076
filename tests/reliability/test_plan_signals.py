"""Issue 11, row 8: `space-mirror plan` stopped by SIGINT, SIGTERM or SIGHUP stops its dry
run's rclone, frees the lock and removes its temporary log, as `run` does.

The dry run talks to a loopback "server" that accepts connections and never answers, so it
is certainly still running when the signal comes.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from sm_testkit import REPO, rclone_alive, wait_until, write_toml

from tui.ops import lock


@pytest.fixture
def silent_server() -> Iterator[int]:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    port: int = srv.getsockname()[1]
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            held.append(conn)  # never answered

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield port
    stop.set()
    srv.close()
    for c in held:
        c.close()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP],
                         ids=lambda s: s.name)
def test_row8_plan_stops_its_rclone_on_signals(tmp_path: Path, silent_server: int,
                                               cli_env: dict[str, str],
                                               sig: signal.Signals) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a").write_text("a")
    lock_path = tmp_path / "lock"
    config = write_toml(tmp_path / "config.toml", {"t": {
        "source": str(src), "destination": ":webdav:mirror", "require_mount": False,
        "log_file": str(tmp_path / "mirror.log"), "lock_file": str(lock_path),
        "summary_file": str(tmp_path / "summary.json"),
        "metrics_file": str(tmp_path / "metrics.prom"), "remote_timeout": 1, "env_file": "",
        "env": {"RCLONE_WEBDAV_URL": f"http://127.0.0.1:{silent_server}/",
                "RCLONE_LOW_LEVEL_RETRIES": "1", "RCLONE_RETRIES": "1"},
    }})
    plan = subprocess.Popen([sys.executable, "-m", "tui", "--config", str(config), "plan",
                             "--offline"], env=cli_env, cwd=str(REPO),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    rclone_pid = None
    temp_log: Path | None = None
    try:
        record = wait_until(lambda: (lambda r: r if r and r.rclone_pid else None)(
            lock.read_holder(lock_path)), 60, "the plan's dry run to start")
        rclone_pid = record.rclone_pid
        temp_log = Path(record.log)
        assert temp_log.parent.name.startswith("space-mirror-plan-")
        plan.send_signal(sig)
        _out, err = plan.communicate(timeout=60)
        assert plan.returncode == 128 + sig, (plan.returncode, err)
        assert sig.name in err and "Traceback" not in err
        wait_until(lambda: not rclone_alive(rclone_pid), 30, "the dry run's rclone to end")
        assert not temp_log.parent.exists()
        assert lock.read_holder(lock_path) is None
    finally:
        if plan.poll() is None:
            plan.kill()
            plan.communicate()
        if rclone_pid and rclone_alive(rclone_pid):
            psutil.Process(rclone_pid).kill()  # an orphan left by a plan without the fix
        if temp_log is not None:
            shutil.rmtree(temp_log.parent, ignore_errors=True)  # left by a plan without the fix
