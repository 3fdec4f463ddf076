"""A deterministic fleet for snapshots, screenshots and the bench: Prometheus answers (one per
series name, as tui/ops/prometheus.py gets them) built for `hosts` × `jobs`, at a fixed
time. The states cycle through every kind the fleet shows."""

from __future__ import annotations

import time
from typing import Any

from textual.pilot import Pilot

from tui.app.fleet_app import FleetApp
from tui.app.screens.fleet import FleetScreen
from tui.core import fleet

NOW = 1_796_000_000.0  # a fixed instant: ages never depend on the day the test runs
HOSTS = ("nas01", "web02", "db03", "lab04", "edge05")
JOBS = ("space", "flux", "photos")

OK = {"last_success_timestamp_seconds": NOW - 5 * 3600, "last_run_success": 1,
      "last_run_exit_code": 0, "run_in_progress": 0, "warn_after_seconds": 93600,
      "crit_after_seconds": 180000, "run_stall_timeout_seconds": 1800,
      "deletes_skipped_runs": 0, "persistent_failed_files": 0}
KINDS: list[dict[str, float]] = [
    OK,
    {**OK, "run_in_progress": 1, "run_start_timestamp_seconds": NOW - 1800,
     "run_bytes_done": 7.5e9, "run_bytes_total": 2e10, "run_files_done": 310,
     "run_files_total": 900, "run_speed_bytes_per_second": 4.2e6, "run_eta_seconds": 2976,
     "run_last_progress_timestamp_seconds": NOW - 3},
    {**OK, "run_in_progress": 1, "run_start_timestamp_seconds": NOW - 7200,
     "run_bytes_done": 3e9, "run_bytes_total": 5e9, "run_speed_bytes_per_second": 0,
     "run_eta_seconds": 0, "run_last_progress_timestamp_seconds": NOW - 340},
    {**OK, "last_run_success": 0, "last_run_exit_code": 7, "persistent_failed_files": 3,
     "deletes_skipped_runs": 2},
    {**OK, "last_success_timestamp_seconds": NOW - 31 * 3600},
    OK,
    {**OK, "last_success_timestamp_seconds": NOW - 60 * 3600, "last_run_success": 0,
     "last_run_exit_code": 5},
]


def answers(hosts: int, jobs: int) -> dict[str, list[fleet.Result]]:
    out: dict[str, list[fleet.Result]] = {q: [] for q in fleet.QUERIES}
    n = 0
    for h in range(hosts):
        instance = f"{HOSTS[h % len(HOSTS)]}{'' if h < len(HOSTS) else f'-{h}'}:9100"
        out[fleet.UP].append(({"instance": instance, "job": "node"}, 1, NOW))
        for j in range(jobs):
            name = JOBS[j % len(JOBS)] if j < len(JOBS) else f"job{j}"
            labels = {"instance": instance, "job": name}
            for key, value in KINDS[n % len(KINDS)].items():
                out[f"space_mirror_{key}"].append((labels, value, NOW))
            out["space_mirror_rclone_info"].append(({**labels, "version": "v1.75.2"}, 1, NOW))
            out[fleet.SEEN].append((labels, NOW - 4, NOW))
            n += 1
    out[fleet.UP].append(({"instance": "old06:9100", "job": "node"}, 0, NOW))
    return out


def fleet_app(hosts: int = 5, jobs: int = 3) -> FleetApp:
    data = answers(hosts, jobs)
    return FleetApp(lambda: fleet.build_rows(data, NOW, 15.0), 3600.0, "http://prometheus:9090",
                    frozenset({"nas01"}))


async def shown(pilot: Pilot[Any]) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, FleetScreen)
    deadline = time.monotonic() + 10
    while screen.refreshes < 1:
        assert time.monotonic() < deadline, "the fleet never showed"
        await pilot.pause(0.02)
    await pilot.pause()
