"""The fleet on a real engine: Debian's prometheus-node-exporter reads the runner's textfile,
Prometheus scrapes it with contrib/prometheus/space-mirror-rules.yml, and
prometheus-alertmanager posts to a webhook receiver (a small HTTP server in this test). A
job whose last success is 30 h old pages; a successful run resolves the page.

Everything listens on 127.0.0.1 on free ports, keeps its data in tmp_path and is killed at
teardown. Intervals of a second keep it well under a minute.

Prometheus and Alertmanager are Go programs and read the real clock even under faketime, so
the runner runs here with faketime removed from its environment, and "30 h ago" is taken
from Prometheus's own `time()`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sm_testkit import PostRecorder, free_port, port_open, wait_until, write_toml

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "contrib" / "prometheus" / "space-mirror-rules.yml"
STALE = "SpaceMirrorNoRecentSuccess"


def alerts(receiver: PostRecorder, name: str, status: str) -> list[dict[str, Any]]:
    """The alerts Alertmanager posted to the webhook, by name and status."""
    return [a for _, body in list(receiver.got) for a in json.loads(body)["alerts"]
            if a["labels"].get("alertname") == name and a["status"] == status]


def binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} not found: apt-get install {name} (.ci/run does)")
    return found


class Stack:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, argv: list[str], port: int) -> None:
        log = open(self.tmp / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=self.tmp,
                                start_new_session=True)
        log.close()
        self.procs.append(proc)
        wait_until(lambda: port_open(port) or proc.poll() is not None, 30, f"{name} to listen")
        if proc.poll() is not None:
            pytest.fail(f"{name} exited: " + (self.tmp / f"{name}.log").read_text("utf-8"))

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[Stack, PostRecorder, Path, int]]:
    textfiles = tmp_path / "textfile"
    textfiles.mkdir()
    receiver = PostRecorder()
    s = Stack(tmp_path)
    ne, am, prom = free_port(), free_port(), free_port()
    try:
        s.start("node-exporter", [
            binary("prometheus-node-exporter"), f"--web.listen-address=127.0.0.1:{ne}",
            "--collector.disable-defaults", "--collector.textfile",
            f"--collector.textfile.directory={textfiles}"], ne)
        (tmp_path / "am.yml").write_text(json.dumps({
            "route": {"receiver": "hook", "group_by": ["alertname", "job"], "group_wait": "1s",
                      "group_interval": "1s", "repeat_interval": "1h"},
            "receivers": [{"name": "hook", "webhook_configs": [
                {"url": f"http://127.0.0.1:{receiver.port}/", "send_resolved": True}]}]}))
        s.start("alertmanager", [
            binary("prometheus-alertmanager"), f"--config.file={tmp_path / 'am.yml'}",
            f"--storage.path={tmp_path / 'am-data'}", f"--web.listen-address=127.0.0.1:{am}",
            "--cluster.listen-address="], am)
        (tmp_path / "prom.yml").write_text(json.dumps({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(RULES)],
            "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am}"]}]}]},
            # honor_labels: the textfile's `job` label (our job's name) stays `job`.
            "scrape_configs": [{"job_name": "node", "honor_labels": True,
                                "static_configs": [{"targets": [f"127.0.0.1:{ne}"]}]}]}))
        s.start("prometheus", [
            binary("prometheus"), f"--config.file={tmp_path / 'prom.yml'}",
            f"--storage.tsdb.path={tmp_path / 'prom-data'}",
            f"--web.listen-address=127.0.0.1:{prom}", "--rules.alert.resend-delay=1s"], prom)
        yield s, receiver, textfiles, prom
    finally:
        s.stop()
        receiver.close()


def prom_time(port: int) -> float:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": "time()"})
    with urllib.request.urlopen(url, timeout=5) as r:
        return float(json.load(r)["data"]["result"][1])


def real_clock_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FAKETIME", "SPACE_MIRROR_", "RCLONE_", "NOTIFY_SOCKET"))}
    env["LD_PRELOAD"] = ":".join(p for p in env.get("LD_PRELOAD", "").split(":")
                                 if p and "faketime" not in p)
    env["RCLONE_CONFIG"] = "/dev/null"
    return env


def test_stale_mirror_pages_and_a_success_resolves_it(
        tmp_path: Path, stack: tuple[Stack, PostRecorder, Path, int]) -> None:
    _, receiver, textfiles, prom = stack
    src, dst = tmp_path / "src", tmp_path / "dst"
    config = write_toml(tmp_path / "job.toml", {"fleet": {
        "source": src, "destination": dst, "log_file": tmp_path / "mirror.log",
        "lock_file": tmp_path / "mirror.lock", "summary_file": tmp_path / "summary.json",
        "metrics_file": textfiles / "space_mirror_fleet.prom", "require_mount": False}})

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "tui", "--config", str(config), "run",
                               "--offline"], capture_output=True, text=True, timeout=120,
                              env=real_clock_env())

    # Last night's run could not even start (its source is missing), and the last success
    # was 30 h ago by Prometheus's clock.
    wait_until(lambda: _quiet(prom_time, prom), 30, "Prometheus to answer queries")
    (tmp_path / "summary.json").write_text(json.dumps(
        {"mode": "sync", "outcome": "success", "last_success_ended": prom_time(prom) - 30 * 3600}))
    failed = run()
    assert failed.returncode == 78, failed.stderr
    firing = wait_until(lambda: alerts(receiver, STALE, "firing"), 45, "the stale alert")
    assert firing[0]["labels"]["job"] == "fleet"
    assert "no successful sync for 1d 6h" in firing[0]["annotations"]["summary"]
    # Another group (group_by alertname): its own notification, maybe a moment later.
    wait_until(lambda: alerts(receiver, "SpaceMirrorLastRunFailed", "firing"), 45,
               "the failed-run alert")

    src.mkdir()
    (src / "a.txt").write_text("tonight's data")
    ok = run()
    assert ok.returncode == 0, ok.stderr
    resolved = wait_until(lambda: alerts(receiver, STALE, "resolved"), 45, "the stale alert "
                          "to resolve")
    assert resolved[0]["labels"]["job"] == "fleet"
    assert (dst / "a.txt").read_text() == "tonight's data"


def _quiet(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args) or True
    except OSError:
        return False
