"""`space-mirror run` with the real rclone, local → local: markers, counters, exit codes."""

from __future__ import annotations

import json
import os
from pathlib import Path

from sm_testkit import JobFiles, digest_tree

from tui.core.markers import MarkerKind, parse_marker

TREE = {"docs/a.txt": 3000, "docs/b.txt": 5000, "photos/ré sumé.jpg": 40_000, "top.bin": 100_000}


def markers(job: JobFiles) -> list:
    return [m for m in (parse_marker(ln) for ln in job.log_text().splitlines()) if m]


def last_run(job: JobFiles) -> tuple[list[str], dict[str, str], MarkerKind]:
    """The last run's lines (start marker .. end marker), its end fields, and its kind."""
    lines = job.log_text().splitlines()
    start = max(i for i, ln in enumerate(lines) if "Starting Space Mirror..." in ln)
    run = lines[start:]
    end = parse_marker(run[-1])
    assert end is not None and end.kind is not MarkerKind.START, run[-1]
    start_marker = parse_marker(run[0])
    assert start_marker is not None and start_marker.run_id == end.run_id
    return run, end.fields, end.kind


def test_first_copy_then_rename_then_delete(job_config, make_tree, run_cli) -> None:
    job = job_config()
    make_tree(job.source, TREE)
    total = sum(TREE.values())

    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 0, r.stderr
    run, end, kind = last_run(job)
    assert kind is MarkerKind.COMPLETE
    assert any(ln.startswith("{") and '"Copied (new)"' in ln for ln in run)  # rclone's JSON
    assert (end["exit"], end["transfers"], end["bytes"], end["deletes"], end["renames"]) == (
        "0", "4", str(total), "0", "0")
    assert digest_tree(job.dest) == digest_tree(job.source)
    assert "success (exit 0)" in r.stdout and "Traceback" not in r.stderr + r.stdout

    os.rename(job.source / "top.bin", job.source / "top-renamed.bin")
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 0, r.stderr
    _, end, _ = last_run(job)
    assert (end["renames"], end["transfers"], end["bytes"], end["deletes"]) == ("1", "0", "0", "0")
    assert digest_tree(job.dest) == digest_tree(job.source)

    (job.source / "docs/a.txt").unlink()
    (job.source / "docs/b.txt").unlink()
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 0, r.stderr
    _, end, _ = last_run(job)
    assert (end["deletes"], end["transfers"], end["renames"]) == ("2", "0", "0")
    assert digest_tree(job.dest) == digest_tree(job.source)
    assert len([m for m in markers(job) if m.kind is MarkerKind.START]) == 3

    summary = json.loads(job.summary.read_text())
    assert summary["deletes"] == 2 and summary["exit_code"] == 0 and summary["outcome"] == "success"
    prom = job.metrics.read_text()
    assert 'space_mirror_last_run_deletes{job="t"} 2' in prom
    assert 'space_mirror_last_run_success{job="t"} 1' in prom


def test_dry_run_leaves_the_destination_untouched(job_config, make_tree, run_cli) -> None:
    job = job_config()
    make_tree(job.source, TREE)
    assert run_cli("--config", str(job.config), "run").returncode == 0
    # change everything a sync could change: a rename, a delete, a new and a modified file
    os.rename(job.source / "top.bin", job.source / "moved.bin")
    (job.source / "docs/a.txt").unlink()
    make_tree(job.source, {"new.dat": 7000, "docs/b.txt": b"changed"})
    before = digest_tree(job.dest)
    mtimes = {p: p.stat().st_mtime_ns for p in job.dest.rglob("*")}
    prom = job.metrics.read_text()

    r = run_cli("--config", str(job.config), "run", "--dry-run")
    assert r.returncode == 0, r.stderr
    assert digest_tree(job.dest) == before
    assert {p: p.stat().st_mtime_ns for p in job.dest.rglob("*")} == mtimes
    run, end, kind = last_run(job)
    assert "mode=dry-run" in run[0] and kind is MarkerKind.COMPLETE
    skipped = [json.loads(ln).get("skipped") for ln in run if ln.startswith("{")]
    assert "delete" in skipped and "copy" in skipped
    assert end["deletes"] == "1" and end["renames"] == "1"
    assert job.metrics.read_text() == prom  # the real sync's metrics stay
    assert json.loads(job.summary.read_text())["mode"] == "dry-run"


def test_rclones_exit_code_passes_through(job_config, make_tree, run_cli) -> None:
    """--error-on-no-transfer makes rclone exit 9 when nothing changed: the runner reports
    exactly that code, in its exit status and in a FAILED marker."""
    job = job_config(flags=["--error-on-no-transfer"])
    make_tree(job.source, {"a": 10})
    assert run_cli("--config", str(job.config), "run").returncode == 0
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 9, r.stdout + r.stderr
    _, _, kind = last_run(job)
    end = markers(job)[-1]
    assert kind is MarkerKind.FAILED and end.exit_code == 9
    assert "Traceback" not in r.stderr


def test_started_by_timer_when_systemd_runs_it(job_config, make_tree, run_cli) -> None:
    job = job_config()
    make_tree(job.source, {"a": 10})
    r = run_cli("--config", str(job.config), "run", env={"INVOCATION_ID": "abc"})
    assert r.returncode == 0
    start = markers(job)[0]
    assert start.fields["by"] == "timer" and start.fields["job"] == "t"
    assert start.int_field("pid") is not None


def test_log_in_a_missing_folder_is_a_preflight_failure(job_config, make_tree,
                                                        run_cli, tmp_path: Path) -> None:
    job = job_config(log_file=str(tmp_path / "no" / "such" / "dir" / "log"))
    make_tree(job.source, {"a": 10})
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 78
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "does not exist" in lines[0], lines
    assert "Traceback" not in r.stderr
