"""The Prometheus textfile and the JSON summary: format, and atomic replacement."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tui.ops.monitor import metrics, prom
from tui.ops.monitor.metrics import RunSummary
from tui.ops.monitor.summary import carry, last_success_of

NAMES = ("last_success_timestamp_seconds", "last_run_start_timestamp_seconds",
         "last_run_end_timestamp_seconds", "last_run_duration_seconds", "last_run_exit_code",
         "last_run_success", "run_in_progress", "run_max_duration_seconds", "stalled",
         "deletes_skipped_runs", "persistent_failed_files", "guard_tripped", "last_run_bytes",
         "last_run_transfers", "last_run_checks", "last_run_deletes", "last_run_renames",
         "last_run_errors")


def summary(**kw: object) -> RunSummary:
    base: dict[str, object] = dict(
        job="space-mirror", run_id="r1", mode="sync", started=1795000000.0,
        ended=1795000366.25, exit_code=0, outcome="success", reason=None, bytes=151552,
        transfers=4, checks=7, deletes=2, renames=1, errors=0,
        extra={"last_success_ended": 1795000366.25, "deletes_skipped_runs": 0,
               "persistent_failed_files": 3})
    base.update(kw)
    return RunSummary(**base)  # type: ignore[arg-type]


def parse(text: str) -> dict[str, float]:
    """Sample name (+ the guard label) → value, by prometheus_client's own parser; every
    family a gauge with HELP, every sample labelled with the job."""
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        assert family.type == "gauge" and family.documentation, family.name
        for sample in family.samples:
            assert sample.labels["job"], sample
            key = sample.name + (f"/{sample.labels['guard']}" if "guard" in sample.labels else "")
            assert key not in values, key
            values[key] = sample.value
    return values


def test_prometheus_text() -> None:
    text = metrics.prometheus_text(summary())
    assert text.endswith("\n")
    values = parse(text)
    assert {k.split("/")[0] for k in values} == {f"space_mirror_{n}" for n in NAMES}
    assert values["space_mirror_last_run_success"] == 1
    assert values["space_mirror_last_success_timestamp_seconds"] == pytest.approx(1795000366.25)
    assert values["space_mirror_last_run_bytes"] == 151552
    assert values["space_mirror_last_run_duration_seconds"] == pytest.approx(366.25)
    assert values["space_mirror_last_run_deletes"] == 2
    assert values["space_mirror_run_in_progress"] == 0
    assert values["space_mirror_persistent_failed_files"] == 3
    assert values["space_mirror_guard_tripped/max_delete"] == 0
    failed = parse(metrics.prometheus_text(summary(
        exit_code=7, outcome="failed",
        extra={"last_success_ended": 1794900000.0, "guards_tripped": ["max_delete"],
               "stalled": True, "deletes_skipped_runs": 2})))
    assert failed["space_mirror_last_run_success"] == 0
    assert failed["space_mirror_last_run_exit_code"] == 7
    assert failed["space_mirror_last_success_timestamp_seconds"] == 1794900000
    assert failed["space_mirror_guard_tripped/max_delete"] == 1
    assert failed["space_mirror_guard_tripped/ratio"] == 0
    assert failed["space_mirror_stalled"] == 1
    assert failed["space_mirror_deletes_skipped_runs"] == 2
    # Never succeeded, persistent failures unknown: those series are absent, not 0.
    never = parse(metrics.prometheus_text(summary(outcome="failed", extra={})))
    assert "space_mirror_last_success_timestamp_seconds" not in never
    assert "space_mirror_persistent_failed_files" not in never


def test_carry_over_rules() -> None:
    prev = {"last_success_ended": 100.0, "deletes_skipped_runs": 2}
    kw = dict(ended=200.0, ran_rclone=True, deletes_skipped=False)
    assert carry(prev, mode="sync", outcome="success", **kw) == {  # type: ignore[arg-type]
        "last_success_ended": 200.0, "deletes_skipped_runs": 0}
    assert carry(prev, mode="sync", outcome="failed", ended=200.0, ran_rclone=True,
                         deletes_skipped=True) == {"last_success_ended": 100.0,
                                                   "deletes_skipped_runs": 3}
    # A dry run, or a run whose rclone never started, changes neither.
    assert carry(prev, mode="dry-run", outcome="success", ended=200.0,
                         ran_rclone=True, deletes_skipped=True) == prev
    assert carry(prev, mode="sync", outcome="failed", ended=200.0, ran_rclone=False,
                         deletes_skipped=False) == prev
    # A summary from before the field existed: its own successful sync is the last success.
    old = {"mode": "sync", "outcome": "success", "ended": 50.0}
    assert carry(old, mode="sync", outcome="failed", ended=200.0, ran_rclone=True,
                         deletes_skipped=False)["last_success_ended"] == 50.0
    assert last_success_of({**old, "mode": "dry-run"}) is None
    assert carry({}, mode="sync", outcome="failed", ended=1.0, ran_rclone=True,
                         deletes_skipped=False) == {"last_success_ended": None,
                                                    "deletes_skipped_runs": 0}


def test_in_progress_keeps_the_last_run_and_says_running() -> None:
    before = metrics.prometheus_text(summary())
    during = parse(metrics.in_progress_text(before, "space-mirror", 1795100000.0, 7200))
    assert during["space_mirror_run_in_progress"] == 1
    assert during["space_mirror_run_start_timestamp_seconds"] == 1795100000
    assert during["space_mirror_run_max_duration_seconds"] == 7200
    assert during["space_mirror_last_run_success"] == 1  # the last run's series stay
    assert during["space_mirror_last_success_timestamp_seconds"] == pytest.approx(1795000366.25)
    # Twice in a row (a run that died, then the next one): still one series each.
    again = parse(metrics.in_progress_text(metrics.in_progress_text(before, "space-mirror", 1.0),
                                           "space-mirror", 2.0))
    assert again["space_mirror_run_start_timestamp_seconds"] == 2
    first = parse(metrics.in_progress_text("", "new", 5.0))
    assert first == {"space_mirror_run_in_progress": 1.0,
                     "space_mirror_run_start_timestamp_seconds": 5.0,
                     "space_mirror_run_max_duration_seconds": metrics.DEFAULT_RUN_MAX}


def test_label_escaping() -> None:
    text = metrics.prometheus_text(summary(job='we"ird\\job\nname'))
    parse(text)
    assert 'job="we\\"ird\\\\job\\nname"' in text


def test_write_metrics_and_summary(tmp_path: Path) -> None:
    prom, js = tmp_path / "m" / "x.prom", tmp_path / "s" / "x.json"
    assert metrics.write_metrics(prom, js, summary(reason="why")) == []
    parse(prom.read_text())
    data = json.loads(js.read_text())
    assert data["reason"] == "why" and data["duration_s"] == pytest.approx(366.25)
    assert sorted(os.listdir(tmp_path / "m")) == ["x.prom"]  # no temp file left


def test_write_is_atomic(tmp_path: Path) -> None:
    path = tmp_path / "x.prom"
    path.write_text("old\n")
    reader = open(path)  # noqa: SIM115 - a scraper that opened the old file
    inode = path.stat().st_ino
    assert prom.write(path, "new\n") is None
    assert path.read_text() == "new\n" and path.stat().st_ino != inode
    assert reader.read() == "old\n"  # the reader still sees a whole (old) file
    reader.close()
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)


def test_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    """A write that fails (here a real full file system) leaves the old file and no temp."""
    import subprocess

    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k,mode=0755", "tmpfs", str(small)],
                   check=True)
    try:
        path = small / "x.prom"
        path.write_text("old\n")
        warning = prom.write(path, "new\n" * 20_000)  # 80 KB into 16 KB
        assert warning is not None and "could not write" in warning
        assert path.read_text() == "old\n"
        assert os.listdir(small) == ["x.prom"]
    finally:
        subprocess.run(["umount", str(small)], check=True)


def test_unwritable_place_is_a_warning(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    warnings = metrics.write_metrics(blocker / "m.prom", tmp_path / "ok.json", summary())
    assert len(warnings) == 1 and "could not write" in warnings[0]
    assert (tmp_path / "ok.json").exists()


def test_dry_run_keeps_the_sync_metrics(tmp_path: Path) -> None:
    prom, js = tmp_path / "x.prom", tmp_path / "x.json"
    metrics.write_metrics(prom, js, summary(exit_code=7, outcome="failed"))
    before = prom.read_text()
    assert metrics.write_metrics(prom, js, summary(mode="dry-run")) == []
    assert prom.read_text() == before  # the failed sync still shows
    assert json.loads(js.read_text())["mode"] == "dry-run"
