"""The Prometheus textfile and the JSON summary: format, and atomic replacement."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from tui.ops import metrics
from tui.ops.metrics import RunSummary

NAMES = ("last_run_start_timestamp_seconds", "last_run_end_timestamp_seconds",
         "last_run_duration_seconds", "last_run_exit_code", "last_run_success",
         "last_run_bytes", "last_run_transfers", "last_run_deletes", "last_run_renames",
         "last_run_errors")


def summary(**kw: object) -> RunSummary:
    base: dict[str, object] = dict(
        job="space-mirror", run_id="r1", mode="sync", started=1795000000.0,
        ended=1795000366.25, exit_code=0, outcome="success", reason=None, bytes=151552,
        transfers=4, checks=7, deletes=2, renames=1, errors=0)
    base.update(kw)
    return RunSummary(**base)  # type: ignore[arg-type]


SAMPLE = re.compile(r'^(space_mirror_\w+)\{job="((?:[^"\\]|\\.)*)",mode="(sync|dry-run)"\} '
                    r"(-?\d+(?:\.\d+)?)$")


def parse(text: str) -> dict[str, float]:
    values: dict[str, float] = {}
    helps, types = set(), set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helps.add(line.split()[2])
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            assert kind == "gauge"
            types.add(name)
        else:
            m = SAMPLE.match(line)
            assert m, f"not a sample line: {line!r}"
            values[m[1]] = float(m[4])
    assert helps == types == set(values)
    return values


def test_prometheus_text() -> None:
    text = metrics.prometheus_text(summary())
    assert text.endswith("\n")
    values = parse(text)
    assert set(values) == {f"space_mirror_{n}" for n in NAMES}
    assert values["space_mirror_last_run_success"] == 1
    assert values["space_mirror_last_run_bytes"] == 151552
    assert values["space_mirror_last_run_duration_seconds"] == pytest.approx(366.25)
    assert values["space_mirror_last_run_deletes"] == 2
    failed = parse(metrics.prometheus_text(summary(exit_code=7, outcome="failed")))
    assert failed["space_mirror_last_run_success"] == 0
    assert failed["space_mirror_last_run_exit_code"] == 7


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
    metrics.write_atomic(path, "new\n")
    assert path.read_text() == "new\n" and path.stat().st_ino != inode
    assert reader.read() == "old\n"  # the reader still sees a whole (old) file
    reader.close()
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)


def test_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "x.prom"
    path.write_text("old\n")

    def boom(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        metrics.write_atomic(path, "new\n")
    assert path.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["x.prom"]


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
