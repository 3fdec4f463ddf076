"""fleet: `space-mirror fleet` against a real Prometheus holding 200 hosts × 5 jobs.

The textfiles are the runner's own (tui/ops/monitor/metrics.py and live_metrics.py renderers), one
per host with an `instance` label, spread over four real prometheus-node-exporters; one
real Prometheus scrapes them (honor_labels, so each file's instance is the row's host).

Figures:
- fleet-refresh-client: one refresh's work on the client for 1000 rows (decoding every
  query's JSON, building and judging the rows, rebuilding the screen's table), in CPU
  seconds (a shared machine's load does not count against it; the note has the wall time),
  vs the issue's 100 ms. Target ≤ 1.
- fleet-refresh-wall: the same refresh over HTTP, Prometheus's own time included (info).
- fleet-first-frame: process start to the fleet screen's first frame showing its 1000
  rows, vs the overview's first frame (5 jobs of this host). Target ≤ 1.5×.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.common import Result, best_of, median_of_pair, time_to_first_frame

JOBS = 5
EXPORTERS = 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _group(text: str) -> str:
    """Many renderings of the same series names as one valid exposition: each family's HELP
    and TYPE once, its samples together (node_exporter refuses a second HELP)."""
    heads: dict[str, list[str]] = {}
    samples: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.startswith("# "):
            name = line.split()[2]
            if line not in heads.setdefault(name, []):
                heads[name].append(line)
        elif line:
            name = re.split(r"[{ ]", line, maxsplit=1)[0]
            samples.setdefault(name, []).append(line)
    return "".join("\n".join([*heads.get(n, []), *lines]) + "\n" for n, lines in samples.items())


def host_textfile(host: int, now: float) -> str:
    """The textfiles of a host's JOBS jobs, as the runner writes them: one job in five runs."""
    from tui.config import Job
    from tui.core.runstate import RunState
    from tui.core.stats import Stats
    from tui.ops.monitor import live_metrics, metrics

    parts: list[str] = []
    for j in range(JOBS):
        job = Job(name=f"job{j}")
        s = metrics.RunSummary(
            job=job.name, run_id="r", mode="sync", started=now - 7200 - j, ended=now - 3600,
            exit_code=0 if (host + j) % 7 else 5, outcome="success" if (host + j) % 7 else
            "failed", reason=None, bytes=10**9, transfers=100, checks=1000, deletes=0,
            renames=0, errors=0, extra={"last_success_ended": now - 3600 * (1 + (host % 40))})
        text = metrics.prometheus_text(s, more=live_metrics.settings_samples(job))
        if (host + j) % 5 == 0:
            text = metrics.in_progress_text(text, job.name, now - 600)
            state = RunState(stats=Stats(bytes=host * 10**6, total_bytes=10**9, speed=2e6,
                                         eta=400.0, transfers=3, total_transfers=9))
            text = live_metrics.merged_text(text, job.name, live_metrics.live_samples(
                job, state, float(host % 90), now, "v1.75.2"))
        parts.append(text)
    return _group(re.sub(r'\{job="', f'{{instance="host-{host:03d}",job="', "\n".join(parts)))


@contextmanager
def prometheus_with(hosts: int) -> Iterator[str]:
    """A real Prometheus scraping EXPORTERS node_exporters holding `hosts` hosts' files."""
    work = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    procs: list[subprocess.Popen[bytes]] = []
    now = time.time()
    try:
        targets = []
        for e in range(EXPORTERS):
            folder = work / f"textfile-{e}"
            folder.mkdir()
            for h in range(e, hosts, EXPORTERS):
                (folder / f"space_mirror_host{h:03d}.prom").write_text(host_textfile(h, now))
            port = _free_port()
            procs.append(_start(["prometheus-node-exporter",
                                 f"--web.listen-address=127.0.0.1:{port}",
                                 "--collector.disable-defaults", "--collector.textfile",
                                 f"--collector.textfile.directory={folder}"], work, port))
            targets.append(f"127.0.0.1:{port}")
        port = _free_port()
        (work / "prom.yml").write_text(json.dumps({
            "global": {"scrape_interval": "2s", "evaluation_interval": "15s"},
            "scrape_configs": [{"job_name": "node", "honor_labels": True,
                                "static_configs": [{"targets": targets}]}]}))
        procs.append(_start(["prometheus", f"--config.file={work / 'prom.yml'}",
                             f"--storage.tsdb.path={work / 'data'}",
                             f"--web.listen-address=127.0.0.1:{port}"], work, port))
        url = f"http://127.0.0.1:{port}"
        _wait_rows(url, hosts * JOBS)
        yield url
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(work, ignore_errors=True)


def _start(argv: list[str], cwd: Path, port: int) -> subprocess.Popen[bytes]:
    if shutil.which(argv[0]) is None:
        raise SystemExit(f"bench fleet: {argv[0]} not found (apt-get install prometheus "
                         "prometheus-node-exporter)")
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{argv[0]} did not listen on {port}")


def _wait_rows(url: str, rows: int) -> None:
    q = urllib.parse.quote("count(space_mirror_run_in_progress)")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/v1/query?query={q}", timeout=5) as r:
                result = json.load(r)["data"]["result"]
            if result and int(float(result[0]["value"][1])) == rows:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"Prometheus never held {rows} rows")


def refresh(url: str, runs: int) -> list[Result]:
    import asyncio

    from tui.app.fleet_app import FleetApp
    from tui.app.screens.fleet import FleetScreen
    from tui.config import FleetConfig
    from tui.core import fleet
    from tui.ops import prometheus

    client = prometheus.Client(FleetConfig(prometheus=url))
    bodies = {}
    for q in fleet.QUERIES:  # the raw answers, once: the client's share is timed below
        with urllib.request.urlopen(f"{url}/api/v1/query?" + urllib.parse.urlencode(
                {"query": q}), timeout=10) as r:
            bodies[q] = r.read()
    built = fleet.build_rows({}, 0.0)

    walls: list[float] = []

    def decode_and_build() -> float:
        """CPU seconds (the client's work, whatever else the machine runs); wall aside. What
        read_fleet does once the answers are in (prometheus.fleet_from)."""
        nonlocal built
        t0, w0 = time.process_time(), time.perf_counter()
        built = prometheus.fleet_from(client, bodies, time.time(), 15.0)
        walls.append(time.perf_counter() - w0)
        return time.process_time() - t0

    decode = best_of(runs, decode_and_build)
    assert len(built.rows) >= 1000 or runs == 1, len(built.rows)
    shows: list[float] = []
    show_walls: list[float] = []

    async def table() -> None:
        app = FleetApp(lambda: built, 3600.0, url)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = app.screen
            assert isinstance(screen, FleetScreen)
            while screen.refreshes < 1:
                await pilot.pause(0.02)
            for _ in range(runs):
                t0, w0 = time.process_time(), time.perf_counter()
                screen.show()
                shows.append(time.process_time() - t0)
                show_walls.append(time.perf_counter() - w0)

    asyncio.run(table())
    client_s = decode + min(shows)
    wall = best_of(runs, lambda: _timed(lambda: prometheus.read_fleet(client, 15.0)))
    note = f"{len(built.rows)} rows, {len(fleet.QUERIES)} queries; best of {runs}"
    return [
        Result("fleet-refresh-client", client_s, 0.100, 1.0, "s", "le",
               note=f"{note}; CPU: decode+judge {decode * 1000:.0f} ms, table "
                    f"{min(shows) * 1000:.0f} ms (wall {min(walls) * 1000:.0f} + "
                    f"{min(show_walls) * 1000:.0f} ms); baseline: the issue's 100 ms"),
        Result("fleet-refresh-wall", wall, 0.100, 1.0, "s", "le", informational=True,
               note=f"{note}; over HTTP, Prometheus's time included"),
    ]


def _timed(fn: object) -> float:
    t0 = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - t0


def overview_config(work: Path) -> Path:
    """Five jobs of this host, with small logs: the overview opens on them."""
    lines = []
    for j in range(JOBS):
        base = work / f"job{j}"
        (base / "src").mkdir(parents=True)
        (base / "mirror.log").write_text("")
        lines += [f"[jobs.job{j}]", f'source = "{base / "src"}"',
                  f'destination = "{base / "dst"}"', f'log_file = "{base / "mirror.log"}"',
                  f'lock_file = "{base / "lock"}"', f'metrics_file = "{base / "m.prom"}"',
                  f'summary_file = "{base / "s.json"}"', "require_mount = false", ""]
    config = work / "overview.toml"
    config.write_text("\n".join(lines))
    return config


def first_frame(url: str, runs: int, rows: int) -> Result:
    with tempfile.TemporaryDirectory(prefix="bench-overview-") as work:
        config = overview_config(Path(work))
        time_to_first_frame(["overview", str(config)])  # warm the page cache for the imports
        time_to_first_frame(["fleet", url])
        value, baseline = median_of_pair(runs, lambda: time_to_first_frame(["fleet", url]),
                                         lambda: time_to_first_frame(["overview", str(config)]))
    return Result("fleet-first-frame", value, baseline, 1.5, "s", "le",
                  note=f"median of {runs}, interleaved; {rows} rows shown vs the overview of "
                       f"{JOBS} jobs")


def run(quick: bool) -> list[Result]:
    hosts = 10 if quick else 200
    runs = 1 if quick else 5
    with prometheus_with(hosts) as url:
        return [*refresh(url, runs), first_frame(url, runs, hosts * JOBS)]
