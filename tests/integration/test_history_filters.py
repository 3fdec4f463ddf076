"""`space-mirror history --outcome/--since/--until/--search` on a log: the recorded real
runs of tests/fixtures/history plus pre-flight failures at fixed dates (the runner's own
markers). The zone is set for each call (TZ), never taken from the machine."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

from tui.core.markers import MarkerKind, format_end, format_start

MIXED = Path(__file__).resolve().parents[1] / "fixtures" / "history" / "mixed.log"
COUNTERS = {"bytes": "0", "transfers": "0", "checks": "0", "deletes": "0", "renames": "0",
            "errors": "0", "elapsed": "0.0"}


def dated_log(tmp_path: Path) -> Path:
    log = tmp_path / "mirror.log"
    shutil.copyfile(MIXED, log)
    lines = []
    for rid, when in (("late-24", datetime(2026, 11, 30, 23, 30, tzinfo=UTC)),
                      ("early-dec", datetime(2026, 12, 1, 0, 30, tzinfo=UTC))):
        lines.append(format_start(rid, "t", "sync", 1, when))
        lines.append(format_end(MarkerKind.FAILED, rid, 78, when, COUNTERS,
                                "pre-flight: source: /space is not mounted"))
    with open(log, "a", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    return log


def ids(run_cli, log: Path, *args: str, tz: str = "UTC") -> list[str]:  # type: ignore[no-untyped-def]
    r = run_cli("--log", str(log), "--no-require-mount", "history", "--json", *args,
                env={"TZ": tz})
    assert r.returncode == 0, r.stderr
    return [run["id"] for run in json.loads(r.stdout)["runs"]]


def test_filters_on_the_cli(run_cli, tmp_path: Path) -> None:
    log = dated_log(tmp_path)
    failed = ids(run_cli, log, "--outcome", "failed")
    assert len(failed) == 8 and failed[-2:] == ["late-24", "early-dec"]
    assert ids(run_cli, log, "--outcome", "failed", "--limit", "1") == ["early-dec"]
    assert ids(run_cli, log, "--since", "2026-12-01") == ["early-dec"]
    # 2026-12-01 in Tokyo (UTC+9) began at 2026-11-30T15:00Z.
    assert ids(run_cli, log, "--since", "2026-12-01", tz="Asia/Tokyo") == ["late-24",
                                                                           "early-dec"]
    assert ids(run_cli, log, "--since", "2026-11-30", "--until", "2026-11-30") == ["late-24"]
    assert ids(run_cli, log, "--until", "2026-11-25", "--outcome", "aborted") == [
        "legacy-20261125T143054Z", "20261125T143055-6076"]
    assert ids(run_cli, log, "--search", "not mounted") == ["late-24", "early-dec"]

    table = run_cli("--log", str(log), "--no-require-mount", "history", "--outcome", "killed",
                    env={"TZ": "UTC"})
    assert table.returncode == 0 and table.stdout.endswith("no runs match the filters\n")


def test_bad_filter_values_are_one_line(run_cli, tmp_path: Path) -> None:
    log = dated_log(tmp_path)
    for args, says in ((["--since", "yesterday"], "--since 'yesterday' is not an ISO date"),
                       (["--outcome", "broken"], "--outcome 'broken' is not one of"),
                       (["--since", "2026-12-02", "--until", "2026-12-01"],
                        "is not before --until")):
        r = run_cli("--log", str(log), "history", *args)
        assert r.returncode == 64, args
        assert says in r.stderr and r.stderr.count("\n") == 1 and r.stdout == ""
