"""`space-mirror audit [--json]` on a B2 bucket made by real rclone runs: it reports exactly
the hidden versions, the overwritten file's old version and the SIGKILLed upload's
unfinished large file, with their bytes; it changes nothing; its exit codes are status's."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

from sm_testkit import JobFiles, assert_no_canary, make_tree_at

from tests.b2.conftest import LARGE, killed_large_upload
from tests.b2.shim import BUCKET, B2Shim
from tui.ops.b2audit import b2_metrics_path

Rclone = Callable[..., subprocess.CompletedProcess[str]]
Run = Callable[..., subprocess.CompletedProcess[str]]
DEST = f":b2:{BUCKET}"


def ok(r: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert r.returncode == 0, r.stderr[-3000:]
    return r


def messy_bucket(b2: B2Shim, b2_rclone: Rclone, rclone_bin: Path, cli_env: dict[str, str],
                 tmp_path: Path) -> dict[str, int]:
    """2 hidden versions, 1 overwritten file, 1 unfinished large file; returns the bytes."""
    src = make_tree_at(tmp_path / "mirror", {"keep.txt": 100, "over.txt": 300,
                                             "d/gone1.bin": 1000, "gone2.bin": 2000})
    ok(b2_rclone("sync", str(src), DEST))
    (src / "over.txt").write_bytes(b"n" * 350)
    (src / "d/gone1.bin").unlink()
    (src / "gone2.bin").unlink()
    ok(b2_rclone("sync", str(src), DEST, env={"RCLONE_B2_HARD_DELETE": "false"}))
    big = make_tree_at(tmp_path / "big", {"huge.bin": LARGE})
    unfinished = killed_large_upload(b2, rclone_bin, cli_env, big)
    return {"hidden": 3000, "old": 300, "unfinished": unfinished, "live": 450}


def test_audit_json_reports_exactly_what_the_bucket_keeps(
        b2: B2Shim, b2_rclone: Rclone, rclone_bin: Path, cli_env: dict[str, str],
        b2_job: Callable[..., JobFiles], run_cli: Run, tmp_path: Path) -> None:
    expect = messy_bucket(b2, b2_rclone, rclone_bin, cli_env, tmp_path)
    assert expect["unfinished"] == 5 * 1024 * 1024  # one stored part of 5 MiB
    before = b2.dump()
    job = b2_job(b2_price_per_tb_month=10.0)
    r = run_cli("--config", str(job.config), "audit", "--json")
    assert r.returncode == 1, r.stdout + r.stderr  # WARNING: no lifecycle rule
    got = json.loads(r.stdout)
    assert got["hidden_versions"] == {"count": 2, "bytes": expect["hidden"]}
    assert got["old_versions"] == {"count": 1, "bytes": expect["old"]}
    assert got["live"] == {"count": 2, "bytes": expect["live"]}
    un = got["unfinished_large_files"]
    start = next(v for v in before if v["action"] == "start")
    assert (un["count"], un["bytes"], un["oldest_started_ms"]) == (
        1, expect["unfinished"], start["uploadTimestamp"])
    assert un["files"][0]["name"] == "huge.bin"
    extra = expect["hidden"] + expect["old"] + expect["unfinished"]
    assert got["monthly_cost"]["extra"] == round(extra / 1e12 * 10.0, 4)
    kinds = {f["kind"]: f for f in got["findings"]}
    assert set(kinds) == {"hidden", "old-versions", "unfinished"}
    assert not any(f["covered_by_lifecycle"] for f in kinds.values())
    assert "rclone backend lifecycle :b2:miket-space-mirror -o daysFromHidingToDeleting=1" \
        in kinds["hidden"]["remedy"]
    assert "rclone backend cleanup :b2:miket-space-mirror -o max-age=" \
        in kinds["unfinished"]["remedy"]
    assert b2.dump() == before  # the audit deleted nothing
    assert_no_canary(r.stdout, r.stderr)
    prom = b2_metrics_path(_job(job)).read_text()
    assert f'space_mirror_b2_hidden_bytes{{job="{job.name}"}} {expect["hidden"]}' in prom
    assert (f'space_mirror_b2_unfinished_bytes{{job="{job.name}"}} {expect["unfinished"]}'
            in prom)
    assert f'space_mirror_b2_lifecycle_removes_versions{{job="{job.name}"}} 0' in prom

    # status --json carries what the last audit found.
    status = json.loads(run_cli("--config", str(job.config), "status", "--json").stdout)
    assert (status["b2"]["hidden_bytes"], status["b2"]["unfinished_bytes"]) == (
        expect["hidden"], expect["unfinished"])

    text = run_cli("--config", str(job.config), "audit")
    assert text.returncode == 1
    assert "2 hidden version(s) of deleted files" in text.stdout
    assert "nothing was changed" in text.stdout


def test_audit_is_ok_when_a_lifecycle_rule_removes_it_all(
        b2: B2Shim, b2_rclone: Rclone, rclone_bin: Path, cli_env: dict[str, str],
        b2_job: Callable[..., JobFiles], run_cli: Run, tmp_path: Path) -> None:
    messy_bucket(b2, b2_rclone, rclone_bin, cli_env, tmp_path)
    ok(b2_rclone("backend", "lifecycle", DEST, "-o", "daysFromHidingToDeleting=7",
                 "-o", "daysFromStartingToCancelingUnfinishedLargeFiles=2"))
    job = b2_job()
    r = run_cli("--config", str(job.config), "audit", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    got = json.loads(r.stdout)
    assert all(f["covered_by_lifecycle"] for f in got["findings"]) and len(got["findings"]) == 3
    assert got["lifecycle"]["days_from_hiding_to_deleting"] == 7
    # And the rule does what the audit says, on B2's (fake) clock.
    b2.advance_days(8)
    assert {v["action"] for v in b2.dump()} == {"upload"}
    r = run_cli("--config", str(job.config), "audit", "--json")
    got = json.loads(r.stdout)
    assert (got["hidden_versions"]["count"], got["old_versions"]["count"],
            got["unfinished_large_files"]["count"], r.returncode) == (0, 0, 0, 0)


def test_audit_of_a_non_b2_destination_is_unknown(job_config: Callable[..., JobFiles],
                                                  run_cli: Run) -> None:
    job = job_config()
    r = run_cli("--config", str(job.config), "audit")
    assert r.returncode == 3
    assert r.stderr.strip().count("\n") == 0 and "audit is for B2 destinations" in r.stderr


def test_audit_with_a_wrong_key_is_unknown_and_secret_free(
        b2: B2Shim, b2_env: Path, b2_job: Callable[..., JobFiles], run_cli: Run) -> None:
    b2_env.write_text(b2_env.read_text().replace("CANARY-SECRET-91bd", "CANARY-WRONG-0000"))
    job = b2_job()
    r = run_cli("--config", str(job.config), "audit", "--json")
    assert r.returncode == 3
    assert json.loads(r.stdout)["status"] == "UNKNOWN"
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert "CANARY-WRONG-0000" not in r.stdout + r.stderr
    assert_no_canary(r.stdout, r.stderr)


def _job(files: JobFiles):  # type: ignore[no-untyped-def]
    from tui.config import load_job

    return load_job(files.config, files.name)


def test_an_unfinished_new_version_of_a_live_file_is_not_an_old_version(
        b2: B2Shim, b2_rclone: Rclone, rclone_bin: Path, cli_env: dict[str, str],
        b2_job: Callable[..., JobFiles], run_cli: Run, tmp_path: Path) -> None:
    """`lsjson --b2-versions` then shows the start marker as the file and the live version
    with a version suffix: the audit tells them apart by id."""
    src = make_tree_at(tmp_path / "src", {"huge.bin": LARGE})
    ok(b2_rclone("copy", str(src), DEST))
    (src / "huge.bin").write_bytes(b"x" * LARGE)
    stored = killed_large_upload(b2, rclone_bin, cli_env, src)
    got = json.loads(run_cli("--config", str(b2_job().config), "audit", "--json").stdout)
    assert got["live"] == {"count": 1, "bytes": LARGE}
    assert got["old_versions"]["count"] == 0 and got["hidden_versions"]["count"] == 0
    assert (got["unfinished_large_files"]["count"],
            got["unfinished_large_files"]["bytes"]) == (1, stored)
