"""Live series during real runs (real rclone, local → local, --bwlimit): the textfile is
rewritten every metrics_interval with the run's progress; a SIGSTOPped rclone's last
progress stays put while the runner keeps rewriting; the end-of-run file drops the live
series and keeps the job's thresholds."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sm_testkit import rclone_children, stop_runners, wait_until

LIVE = "space_mirror_run_"


def series(prom: Path) -> dict[str, tuple[dict[str, str], float]]:
    """Each sample's name → (labels, value), from the file as node_exporter would read it."""
    try:
        text = prom.read_text()
    except FileNotFoundError:
        return {}
    return {s.name: (s.labels, s.value)
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(prom: Path, name: str) -> float | None:
    found = series(prom).get(name)
    return None if found is None else found[1]


@pytest.fixture
def runner(job_config, make_tree, cli_env) -> Iterator[tuple[object, subprocess.Popen[bytes]]]:
    job = job_config(flags=["--transfers", "1"], bwlimit="200k", metrics_interval=0.3,
                     stall_timeout=600, warn_after=7200, crit_after=9000)
    make_tree(job.source, {"a.bin": 3_000_000})
    proc = subprocess.Popen([sys.executable, "-m", "tui", "--config", str(job.config), "run"],
                            env=cli_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield job, proc
    finally:
        stop_runners(proc)


def test_progress_moves_in_the_textfile_while_rclone_runs(runner, rclone_bin) -> None:
    job, proc = runner
    first = wait_until(lambda: (value(job.metrics, "space_mirror_run_bytes_done") or 0) > 0
                       and series(job.metrics), 30, "the first live bytes")
    done0 = first["space_mirror_run_bytes_done"][1]
    assert first["space_mirror_run_bytes_total"][1] == 3_000_000
    assert first["space_mirror_run_files_total"][1] == 1
    assert first["space_mirror_run_in_progress"][1] == 1
    assert first["space_mirror_run_stall_timeout_seconds"][1] == 600
    labels, one = first["space_mirror_rclone_info"]
    real = subprocess.run([str(rclone_bin), "version"], capture_output=True, text=True).stdout
    assert one == 1 and real.startswith(f"rclone {labels['version']}\n")
    # Rewritten while rclone runs: the bytes move between two rewrites.
    wait_until(lambda: (value(job.metrics, "space_mirror_run_bytes_done") or 0) > done0, 30,
               "the live bytes to move")
    assert proc.wait(60) == 0, proc.stderr.read() if proc.stderr else ""
    after = series(job.metrics)
    assert after["space_mirror_run_in_progress"][1] == 0
    assert after["space_mirror_last_run_success"][1] == 1
    assert not [n for n in after if n.startswith(LIVE) and n not in (
        "space_mirror_run_in_progress", "space_mirror_run_max_duration_seconds",
        "space_mirror_run_stall_timeout_seconds")]
    # The rclone the run used stays named (issue 19): the same series, from the summary.
    assert after["space_mirror_rclone_info"][0]["version"] == labels["version"]
    # The thresholds outlive the run: the fleet judges the job by its own.
    assert after["space_mirror_warn_after_seconds"][1] == 7200
    assert after["space_mirror_crit_after_seconds"][1] == 9000


def test_a_stopped_rclone_keeps_its_last_progress_while_the_runner_rewrites(runner) -> None:
    job, proc = runner
    wait_until(lambda: (value(job.metrics, "space_mirror_run_bytes_done") or 0) > 0, 30,
               "the first live bytes")
    for kid in rclone_children(proc.pid):
        kid.send_signal(signal.SIGSTOP)
    # Lines rclone wrote just before it stopped are read within a poll (0.5 s) or two:
    # take the stopped run's figures once nothing has moved for 2 s.
    stopped = wait_until(
        lambda: (s := series(job.metrics)).get("space_mirror_run_seconds_since_progress",
                                               ({}, 0))[1] >= 2 and s,
        15, "a stopped run's idle time")
    marker = stopped["space_mirror_run_updated_timestamp_seconds"][1]
    later = wait_until(
        lambda: (s := series(job.metrics)).get("space_mirror_run_updated_timestamp_seconds",
                                               ({}, 0))[1] > marker + 1 and s,
        15, "two more seconds of rewrites")
    assert later["space_mirror_run_bytes_done"][1] == stopped["space_mirror_run_bytes_done"][1]
    assert (later["space_mirror_run_last_progress_timestamp_seconds"][1]
            == pytest.approx(stopped["space_mirror_run_last_progress_timestamp_seconds"][1],
                             abs=0.01))
    assert (later["space_mirror_run_seconds_since_progress"][1]
            > stopped["space_mirror_run_seconds_since_progress"][1] + 1)
    assert proc.poll() is None  # the runner's watchdog (600 s) has not stopped it
