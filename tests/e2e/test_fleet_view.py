"""`space-mirror fleet` on real binaries, on loopback: two prometheus-node-exporters, each
with its own textfile folder and its own `instance` label, play hosts "alpha" and "beta";
one Prometheus scrapes both with contrib's rules. Real `space-mirror run` syncs with real
rclone: on alpha one succeeds ("ok") and one succeeded but is past its crit_after
("old"); on beta one runs under a bandwidth limit ("moving") and one has its rclone
SIGSTOPped ("stuck").

`fleet --json` shows the moving run's bytes growing between two refreshes, the stuck one
stalled (and SpaceMirrorRunStalling firing in Prometheus) while its runner still runs, the
old one stale, everything sorted by need, and exit code 2 (CRITICAL, the stale row). Then
`space-mirror fleet` in tmux at 80x24 shows the same rows in the same order, and Enter on
the stalled row gives the ssh command that opens its dashboard. Last, host alpha's
node_exporter stops: the answer names it among the hosts that stopped answering.
The runners use the real clock, as Prometheus does (see test_fleet_alerts.py).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sm_testkit import (
    free_port,
    make_tree_at,
    rclone_children,
    stop_runners,
    wait_until,
    write_toml,
)
from test_dashboard_tmux import COMMAND, Tmux
from test_fleet_alerts import RULES, Stack, _quiet, binary, prom_time, real_clock_env

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

HOSTS = ("alpha", "beta")


@pytest.fixture
def two_hosts(tmp_path: Path) -> Iterator[tuple[Stack, dict[str, Path], int]]:
    s = Stack(tmp_path)
    folders = {h: tmp_path / f"textfile-{h}" for h in HOSTS}
    targets = []
    try:
        for host, folder in folders.items():
            folder.mkdir()
            port = free_port()
            s.start(f"node-exporter-{host}", [
                binary("prometheus-node-exporter"), f"--web.listen-address=127.0.0.1:{port}",
                "--collector.disable-defaults", "--collector.textfile",
                f"--collector.textfile.directory={folder}"], port)
            targets.append({"targets": [f"127.0.0.1:{port}"], "labels": {"instance": host}})
        prom = free_port()
        (tmp_path / "prom.yml").write_text(json.dumps({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(RULES)],
            "scrape_configs": [{"job_name": "node", "honor_labels": True,
                                "static_configs": targets}]}))
        s.start("prometheus", [
            binary("prometheus"), f"--config.file={tmp_path / 'prom.yml'}",
            f"--storage.tsdb.path={tmp_path / 'prom-data'}",
            f"--web.listen-address=127.0.0.1:{prom}"], prom)
        wait_until(lambda: _quiet(prom_time, prom), 30, "Prometheus to answer queries")
        yield s, folders, prom
    finally:
        s.stop()


def job_table(tmp: Path, folders: dict[str, Path], host: str, name: str,
              **keys: Any) -> dict[str, Any]:
    base = tmp / name
    (base / "src").mkdir(parents=True)
    return {"source": base / "src", "destination": base / "dst",
            "flags": ["--transfers", "1"], "log_file": base / "mirror.log",
            "lock_file": base / "mirror.lock", "summary_file": base / "summary.json",
            "metrics_file": folders[host] / f"space_mirror_{name}.prom",
            "require_mount": False, "metrics_interval": 0.5, **keys}


def fleet_json(config: Path, prom: int) -> tuple[int, dict[str, Any]]:
    out = subprocess.run([sys.executable, "-m", "tui", "--config", str(config), "fleet",
                          "--prometheus", f"http://127.0.0.1:{prom}", "--json"],
                         capture_output=True, text=True, timeout=60, env=real_clock_env())
    assert out.stdout, out.stderr
    return out.returncode, json.loads(out.stdout)


def rows(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["job"]: r for r in data.get("rows", [])}


def firing(prom: int) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"http://127.0.0.1:{prom}/api/v1/alerts", timeout=5) as r:
        return [a for a in json.load(r)["data"]["alerts"] if a["state"] == "firing"]


def test_fleet_json_and_screen_across_two_hosts(
        tmp_path: Path, two_hosts: tuple[Stack, dict[str, Path], int], tmux: Tmux) -> None:
    stack, folders, prom = two_hosts
    jobs = {
        "ok": job_table(tmp_path, folders, "alpha", "ok"),
        "old": job_table(tmp_path, folders, "alpha", "old", warn_after=1, crit_after=2),
        # stall_timeout 90 s: the fleet calls it stalled after 10 s (the dashboard's
        # threshold), the alert fires after 45 s (half of it), and the runner stops it at
        # 90 s: time to see it stalled by --json, in Prometheus and in tmux.
        "stuck": job_table(tmp_path, folders, "beta", "stuck", bwlimit="100k",
                           stall_timeout=90),
        "moving": job_table(tmp_path, folders, "beta", "moving", bwlimit="150k"),
    }
    config = write_toml(tmp_path / "config.toml", jobs)
    for name in jobs:
        # The moving run needs ~100 s at its limit: it outlasts the test.
        size = {"stuck": 4_000_000, "moving": 15_000_000}.get(name)
        make_tree_at(Path(jobs[name]["source"]),
                     {"a.bin": size} if size else {"a.txt": "tonight's data"})

    def run(name: str) -> list[str]:
        return [sys.executable, "-m", "tui", "--config", str(config), "--job", name, "run",
                "--offline"]

    env = real_clock_env()
    for name in ("ok", "old"):
        done = subprocess.run(run(name), capture_output=True, text=True, timeout=120, env=env)
        assert done.returncode == 0, done.stderr
    runners = {name: subprocess.Popen(run(name), env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, start_new_session=True)
               for name in ("stuck", "moving")}
    try:
        stuck = runners["stuck"]
        # Stopped once it has moved: its live series carry real bytes. (Before the sync,
        # the delete guard lists the destination with an rclone of its own.)
        prom_file = folders["beta"] / "space_mirror_stuck.prom"
        wait_until(lambda: prom_file.exists() and "space_mirror_run_bytes_done "
                   in prom_file.read_text().replace("{", " "), 30, "live series")
        for kid in rclone_children(stuck.pid):
            kid.send_signal(signal.SIGSTOP)

        first = wait_until(lambda: (r := rows(fleet_json(config, prom)[1])).get(
            "moving", {}).get("bytes_done") and r, 30, "the moving run's bytes")
        second = wait_until(lambda: (r := rows(fleet_json(config, prom)[1])).get(
            "moving", {}).get("bytes_done", 0) > first["moving"]["bytes_done"] and r, 30,
            "the moving run's bytes to grow between two refreshes")
        moving = second["moving"]
        assert moving["state"] == "running" and moving["instance"] == "beta"
        assert moving["bytes_total"] == 15_000_000 and 0 < moving["percent"] < 100
        assert moving["rclone_version"].startswith("v1.")

        code, data = wait_until(
            lambda: (d := fleet_json(config, prom))[1].get("rows")
            and rows(d[1]).get("stuck", {}).get("state") == "stalled" and d, 50,
            "the stuck run to show stalled")  # 10 s after SIGSTOP
        assert stuck.poll() is None  # before the runner's own watchdog stopped it
        got = rows(data)
        assert got["stuck"]["instance"] == "beta"
        assert got["stuck"]["no_progress_for_s"] >= 10  # the dashboard's threshold (issue 22)
        assert got["old"]["state"] == "stale" and got["old"]["instance"] == "alpha"
        assert got["ok"]["state"] == "ok" and got["ok"]["status"] == "OK"
        order = [r["job"] for r in data["rows"]]
        assert order[:2] == ["stuck", "old"] and order[-1] == "ok", order
        assert code == 2 and data["exit_code"] == 2  # CRITICAL: "old" is past crit_after
        assert data["down_hosts"] == []
        stalling = wait_until(lambda: [a for a in firing(prom)
                                       if a["labels"]["alertname"] == "SpaceMirrorRunStalling"],
                              60, "SpaceMirrorRunStalling to fire")  # at 45 s, its own
        assert [(a["labels"]["job"], a["labels"]["instance"]) for a in stalling] == [
            ("stuck", "beta")]
        assert stuck.poll() is None

        # The screen, in a real terminal at 80x24: the same rows, sorted by need.
        tmux.start(str(COMMAND), "--config", str(config), "fleet", "--prometheus",
                   f"http://127.0.0.1:{prom}")
        screen = tmux.wait_for("stalled")
        states = {}
        for line in screen.splitlines():
            cells = line.split()
            if len(cells) >= 3 and cells[0] in HOSTS:
                states[cells[1]] = (len(states), cells[0], cells[2])
        assert states == {"stuck": (0, "beta", "stalled"), "old": (1, "alpha", "stale"),
                          "moving": (2, "beta", "running"), "ok": (3, "alpha", "ok")}, screen
        assert "1 stalled · 1 stale · 1 running · 1 ok" in screen
        assert stuck.poll() is None  # all of this before the runner's watchdog
        tmux("send-keys", "-t", "dash", "Enter")
        tmux.wait_for("ssh beta space-mirror --job stuck")
        tmux("send-keys", "-t", "dash", "q")
        tmux.wait_for("Host")
        tmux("send-keys", "-t", "dash", "q")
        wait_until(lambda: not tmux.alive(), 10, "q to quit the fleet screen")

        # Host alpha stops answering: named in the answer, and its rows leave with it.
        stack.procs[0].terminate()  # node-exporter-alpha, started first
        _, gone = wait_until(lambda: (d := fleet_json(config, prom))[1].get("down_hosts")
                             and d, 20, "alpha to be reported down")
        assert gone["down_hosts"] == ["alpha"]
        assert {r["instance"] for r in gone["rows"]} == {"beta"}
    finally:
        stop_runners(*runners.values())
