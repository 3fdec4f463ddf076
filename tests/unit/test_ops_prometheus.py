"""tui/ops/prometheus.py and `space-mirror fleet`'s errors: credentials from an env file go in
the Authorization header (never argv, never an error line), redirects are refused, and every
failure is one line (exit 3 with --json's UNKNOWN, 64 for a usage error).

The HTTP side is a small server on 127.0.0.1 that records what the client sends and answers
as Prometheus's /api/v1/query does (the real Prometheus is in tests/e2e/test_fleet_view.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tui.config import ConfigError, FleetConfig, load_fleet
from tui.ops import prometheus

CANARY = "s3cr3t-canary-9f1e"
VECTOR = {"status": "success", "data": {"resultType": "vector", "result": [
    {"metric": {"__name__": "space_mirror_last_run_success", "instance": "nas:9100",
                "job": "photos"}, "value": [1796000000.5, "1"]}]}}


class Server:
    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []
        self.paths: list[str] = []
        self.status = 200
        self.location: str | None = None
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.headers.append(dict(self.headers))
                outer.paths.append(self.path)
                if outer.location:
                    self.send_response(302)
                    self.send_header("Location", outer.location)
                    self.end_headers()
                    return
                body = json.dumps(VECTOR if self.path.startswith("/api/v1/query") else
                                  {"status": "success", "data": {"yaml":
                                   "global:\n  scrape_interval: 30s\n"}}).encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


def env_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fleet.env"
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_bearer_token_from_the_env_file(server: Server, tmp_path: Path) -> None:
    auth = env_file(tmp_path, f"PROMETHEUS_BEARER_TOKEN={CANARY}\n")
    client = prometheus.Client(FleetConfig(prometheus=server.url, auth_file=auth))
    now, rows = client.query("space_mirror_last_run_success")
    assert now == 1796000000.5 and rows[0][0]["job"] == "photos" and rows[0][1] == 1
    assert server.headers[-1]["Authorization"] == f"Bearer {CANARY}"
    assert client.scrape_interval() == 30


def test_basic_auth_and_a_refusal_names_the_file_not_the_secret(server: Server,
                                                                 tmp_path: Path) -> None:
    auth = env_file(tmp_path, f"PROMETHEUS_USERNAME=ops\nPROMETHEUS_PASSWORD={CANARY}\n")
    client = prometheus.Client(FleetConfig(prometheus=server.url, auth_file=auth))
    client.query("up")
    assert server.headers[-1]["Authorization"].startswith("Basic ")
    server.status = 401
    with pytest.raises(prometheus.PrometheusError) as err:
        client.query("up")
    assert str(err.value).endswith("answered HTTP 401 Unauthorized (check the auth_file's "
                                   "credentials)")
    assert CANARY not in str(err.value)


def test_redirects_are_not_followed(server: Server) -> None:
    server.location = "http://elsewhere.example/api/v1/query"
    client = prometheus.Client(FleetConfig(prometheus=server.url))
    with pytest.raises(prometheus.PrometheusError, match="redirects are not followed"):
        client.query("up")
    assert len(server.headers) == 1


@pytest.mark.parametrize(("url", "says"), [
    ("prometheus:9090", "is not an http(s) address"),
    (f"http://ops:{CANARY}@prom:9090", "not in the URL"),
])
def test_bad_urls(url: str, says: str) -> None:
    with pytest.raises(prometheus.PrometheusError, match=r"\(s\) address|not in the URL") as e:
        prometheus.Client(FleetConfig(prometheus=url))
    assert says in str(e.value) and CANARY not in str(e.value)


def test_an_auth_file_without_credentials(tmp_path: Path) -> None:
    auth = env_file(tmp_path, "OTHER=1\n")
    with pytest.raises(prometheus.PrometheusError, match="holds neither"):
        prometheus.Client(FleetConfig(prometheus="http://p:9090", auth_file=auth))


def test_fleet_config_table(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[fleet]\nprometheus = "http://p:9090"\nauth_file = "/etc/f.env"\n'
                      'interval = 5\n[jobs.a]\nsource = "/s"\n')
    assert load_fleet(config) == FleetConfig("http://p:9090", Path("/etc/f.env"), None, 5.0)
    config.write_text('[fleet]\nprometheus = "http://p:9090"\npassword = "x"\n')
    with pytest.raises(ConfigError, match="unknown key 'password' in \\[fleet\\]"):
        load_fleet(config)


def run_fleet(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui", "fleet", *argv], capture_output=True,
                          text=True, timeout=60, cwd=cwd,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)})


def test_cli_errors_are_one_line(tmp_path: Path, server: Server) -> None:
    none = run_fleet("--json", cwd=tmp_path)
    assert none.returncode == 64 and none.stderr.strip().endswith(
        "no Prometheus to read: give --prometheus URL or set [fleet] prometheus in the config")
    server.close()  # nothing listens there now
    gone = run_fleet("--json", "--prometheus", server.url, cwd=tmp_path)
    assert gone.returncode == 3, gone.stderr
    answer = json.loads(gone.stdout)
    assert answer["status"] == "UNKNOWN" and "cannot be reached" in answer["reasons"][0]
    text = run_fleet("--prometheus", server.url, cwd=tmp_path)
    assert text.returncode == 3 and len(text.stderr.strip().splitlines()) == 1
    assert "Traceback" not in text.stderr


def test_the_reader_prefetches_once_then_reads_each_call(server: Server) -> None:
    reader = prometheus.FleetReader(prometheus.Client(FleetConfig(prometheus=server.url)),
                                    None)
    first = reader()
    assert first.scrape_interval == 30 and [r.job for r in first.rows] == ["photos"]
    asked = len(server.headers)
    # The config, Prometheus's now (`time()`: every query is evaluated at that one instant),
    # then one per query.
    assert asked == 2 + len(prometheus.fleet.QUERIES)
    reader()
    assert len(server.headers) == asked + 1 + len(prometheus.fleet.QUERIES)
    queries = [urllib.parse.parse_qs(urllib.parse.urlsplit(p).query)
               for p in server.paths[-len(prometheus.fleet.QUERIES):]]
    instants = {q["time"][0] for q in queries}
    assert len(instants) == 1 and sorted(q["query"][0] for q in queries) == sorted(
        prometheus.fleet.QUERIES), queries
    server.status = 503
    with pytest.raises(prometheus.PrometheusError, match="answered HTTP 503"):
        reader()


def test_the_answers_are_decoded_and_judged_with_the_cycle_collector_off(
        server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """The waits for Prometheus are not inside the pause (only the decoding and the rows
    are), and the collector is back on after the read."""
    import gc

    seen: dict[str, list[bool]] = {"fetch": [], "build": []}
    real_fetch, real_build = prometheus.Client._fetch, prometheus.fleet.build_rows

    def fetch(self: prometheus.Client, *args: Any) -> bytes:
        seen["fetch"].append(gc.isenabled())
        return real_fetch(self, *args)

    def build(*args: Any) -> Any:
        seen["build"].append(gc.isenabled())
        return real_build(*args)

    monkeypatch.setattr(prometheus.Client, "_fetch", fetch)
    monkeypatch.setattr(prometheus.fleet, "build_rows", build)
    got = prometheus.read_fleet(prometheus.Client(FleetConfig(prometheus=server.url)), 15.0)
    assert [r.job for r in got.rows] == ["photos"] and got.now == 1796000000.5
    assert seen["build"] == [False] and gc.isenabled()
    assert len(seen["fetch"]) == 1 + len(prometheus.fleet.QUERIES) and all(seen["fetch"])
