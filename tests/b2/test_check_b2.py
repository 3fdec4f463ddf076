"""`space-mirror check` on a B2 destination: the key's capabilities, the lifecycle rule (a
missing one is reported, with the command that sets it), and what hard delete on or off
means for recovering a deleted file. Real rclone and the B2 shim."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

from sm_testkit import JobFiles, assert_no_canary

from tests.b2.shim import BUCKET, MIRROR_CAPABILITIES, B2Shim

Run = Callable[..., subprocess.CompletedProcess[str]]


def line(out: str, name: str) -> str:
    found = [ln for ln in out.splitlines() if ln[2:].startswith(f"{name}:")]
    assert len(found) == 1, out
    return found[0]


def test_check_reports_a_missing_lifecycle_rule_and_hard_delete_on(
        b2: B2Shim, b2_job: Callable[..., JobFiles], make_tree: Callable[..., object],
        run_cli: Run) -> None:
    job = b2_job()
    make_tree(job.source, {"a": 1})
    r = run_cli("--config", str(job.config), "check")
    assert r.returncode == 0, r.stdout + r.stderr
    assert line(r.stdout, "B2 key") == "✓ B2 key: may list, write, delete"
    lifecycle = line(r.stdout, "B2 lifecycle")
    assert "warning: no lifecycle rule" in lifecycle
    assert (f"rclone backend lifecycle :b2:{BUCKET} -o daysFromHidingToDeleting=1 "
            "-o daysFromStartingToCancelingUnfinishedLargeFiles=1") in lifecycle
    hard = line(r.stdout, "B2 hard delete")
    assert hard.startswith("✓ B2 hard delete: on:") and "keeps no copy" in hard
    assert_no_canary(r.stdout, r.stderr)


def test_check_with_a_rule_and_hard_delete_off(b2: B2Shim, b2_job: Callable[..., JobFiles],
                                               make_tree: Callable[..., object],
                                               run_cli: Run) -> None:
    b2.set_lifecycle_rules([{"fileNamePrefix": "", "daysFromHidingToDeleting": 30,
                             "daysFromStartingToCancelingUnfinishedLargeFiles": 2,
                             "daysFromUploadingToHiding": None}])
    job = b2_job(env={"RCLONE_B2_HARD_DELETE": "false"})
    make_tree(job.source, {"a": 1})
    r = run_cli("--config", str(job.config), "check")
    assert r.returncode == 0, r.stdout + r.stderr
    lifecycle = line(r.stdout, "B2 lifecycle")
    assert lifecycle == ("✓ B2 lifecycle: hidden versions deleted 30 day(s) after hiding; "
                         "unfinished large files cancelled after 2 day(s)")
    hard = line(r.stdout, "B2 hard delete")
    assert hard.startswith("✓ B2 hard delete: off:") and "for 30 day(s)" in hard


def test_check_refuses_a_key_that_cannot_delete_under_hard_delete(
        b2: B2Shim, b2_job: Callable[..., JobFiles], make_tree: Callable[..., object],
        run_cli: Run) -> None:
    b2.set_capabilities([c for c in MIRROR_CAPABILITIES if c != "deleteFiles"])
    job = b2_job()
    make_tree(job.source, {"a": 1})
    r = run_cli("--config", str(job.config), "check")
    assert r.returncode == 78, r.stdout
    key = line(r.stdout, "B2 key")
    assert key.startswith("✗ B2 key: the key cannot delete (deleteFiles)")
    assert "App Keys" in key
    # Without hard delete a delete is a hide (a write): the same key is enough.
    job = b2_job(name="soft", env={"RCLONE_B2_HARD_DELETE": "false"})
    make_tree(job.source, {"a": 1})
    r = run_cli("--config", str(job.config), "check")
    assert r.returncode == 0, r.stdout
    assert line(r.stdout, "B2 key") == "✓ B2 key: may list, write"


def test_check_offline_has_no_b2_lines(b2: B2Shim, b2_job: Callable[..., JobFiles],
                                       make_tree: Callable[..., object], run_cli: Run) -> None:
    job = b2_job()
    make_tree(job.source, {"a": 1})
    r = run_cli("--config", str(job.config), "check", "--offline")
    assert "B2 " not in r.stdout and b2.calls() == []
