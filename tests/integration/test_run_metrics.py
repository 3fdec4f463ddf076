"""The textfile metrics across real runs (real rclone, local → local): the last success is
set only by a success and carried over by failures, the deletes-skipped counter counts runs
in a row, and `run_in_progress 1` is on disk while rclone runs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sm_testkit import wait_until


def values(prom: Path) -> dict[str, float]:
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(prom.read_text()):
        for s in family.samples:
            assert s.labels["job"] == "t"
            out[s.name + (f"/{s.labels['guard']}" if "guard" in s.labels else "")] = s.value
    return out


def test_last_success_and_deletes_skipped_carry_over(job_config, make_tree, run_cli) -> None:
    # -L makes rclone follow the dangling symlink: a listing error, so rclone skips deletes.
    job = job_config(flags=["-L", "--retries", "1"])
    make_tree(job.source, {"a.txt": "a"})
    (job.source / "broken").symlink_to(job.base / "nowhere")
    make_tree(job.dest, {"old.txt": "stale"})
    for n in (1, 2):
        r = run_cli("--config", str(job.config), "run")
        assert r.returncode != 0
        v = values(job.metrics)
        assert v["space_mirror_deletes_skipped_runs"] == n
        assert v["space_mirror_last_run_success"] == 0
        assert "space_mirror_last_success_timestamp_seconds" not in v  # never succeeded
        assert v["space_mirror_run_in_progress"] == 0
    assert (job.dest / "old.txt").exists()

    (job.source / "broken").unlink()
    assert run_cli("--config", str(job.config), "run").returncode == 0
    v = values(job.metrics)
    ended = json.loads(job.summary.read_text())["ended"]
    assert v["space_mirror_last_success_timestamp_seconds"] == pytest.approx(ended, abs=0.01)
    assert v["space_mirror_deletes_skipped_runs"] == 0
    assert v["space_mirror_last_run_success"] == 1

    shutil.rmtree(job.source)  # the pre-flight fails: rclone never runs
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 78
    v = values(job.metrics)
    assert v["space_mirror_last_run_success"] == 0 and v["space_mirror_last_run_exit_code"] == 78
    assert v["space_mirror_last_success_timestamp_seconds"] == pytest.approx(ended, abs=0.01)


def test_run_in_progress_is_written_before_rclone_runs(job_config, make_tree, cli_env) -> None:
    job = job_config(flags=["--transfers", "1", "--bwlimit", "400k"], max_duration=600)
    make_tree(job.source, {"a.bin": 600_000, "b.bin": 600_000})
    runner = subprocess.Popen([sys.executable, "-m", "tui", "--config", str(job.config), "run"],
                              env=cli_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: job.metrics.exists()
                   and values(job.metrics).get("space_mirror_run_in_progress") == 1,
                   30, "run_in_progress 1")
        during = values(job.metrics)
        assert during["space_mirror_run_max_duration_seconds"] == 600
        assert "space_mirror_run_start_timestamp_seconds" in during
        assert runner.wait(60) == 0
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
    after = values(job.metrics)
    assert after["space_mirror_run_in_progress"] == 0
    assert after["space_mirror_last_run_success"] == 1
    assert "space_mirror_run_start_timestamp_seconds" not in after
