"""The plan against the real sync that follows it (real rclone, real folders)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from safety_helpers import Fingerprint, MirrorJob, assert_nothing_lost, fingerprint, write

from tui.core.markers import MarkerKind
from tui.ops import lock


def _mutate(src: Path) -> dict[str, object]:
    """New, changed, deleted and renamed files; returns what a sync must do."""
    new = ["videos/v1.bin", "videos/deep/v2.bin", "docs/new.bin"]
    for p in new:
        write(src / p, os.urandom(700))
    changed = ["photos/f001.bin", "music/f002.bin"]
    for p in changed:
        write(src / p, os.urandom(5000))  # another size: a copy, never a rename
    deleted = ["docs/f003.bin", "photos/f004.bin"]
    for p in deleted:
        (src / p).unlink()
    renamed = [("music/f005.bin", "music/f005-renamed.bin"), ("docs/f006.bin", "archive/f006.bin")]
    for old, new_name in renamed:
        (src / new_name).parent.mkdir(parents=True, exist_ok=True)
        (src / old).rename(src / new_name)
    return {"copy": sorted(new + changed), "delete": sorted(deleted),
            "rename": sorted([list(r) for r in renamed])}


def _plan_json(mirror: MirrorJob) -> dict[str, object]:
    res = mirror.cli("plan", "--json", "--offline")
    assert res.code == 0, res.stderr
    data = json.loads(res.stdout)
    assert isinstance(data, dict)
    return data


def test_plan_counts_equal_what_the_real_sync_does(
        mirror: MirrorJob, seeded: Callable[[int], Fingerprint]) -> None:
    seeded(12)
    expected = _mutate(mirror.src)
    log_before = mirror.log.read_bytes()
    plan = _plan_json(mirror)
    assert set(plan) == {"copy", "delete", "rename", "warnings"}
    assert plan["copy"] == {"count": 5, "bytes": 3 * 700 + 2 * 5000, "files": expected["copy"]}
    assert plan["delete"]["count"] == 2  # type: ignore[index]
    assert plan["delete"]["files"] == expected["delete"]  # type: ignore[index]
    assert plan["rename"] == {"count": 2, "files": sorted(expected["rename"])}  # type: ignore[arg-type]
    assert plan["warnings"] == []
    # The plan writes nothing to the job log and changes nothing at the destination.
    assert mirror.log.read_bytes() == log_before
    dst_before = fingerprint(mirror.dst)
    assert "docs/f003.bin" in dst_before

    res = mirror.run("--allow-deletes", str(plan["delete"]["count"]))  # type: ignore[index]
    assert res.code == 0, res.stderr
    end = mirror.last_end()
    assert end.kind is MarkerKind.COMPLETE
    assert int(end.fields["transfers"]) == plan["copy"]["count"]  # type: ignore[index]
    assert int(end.fields["deletes"]) == plan["delete"]["count"]  # type: ignore[index]
    assert int(end.fields["renames"]) == plan["rename"]["count"]  # type: ignore[index]
    # The destination listing agrees, file by file.
    after = fingerprint(mirror.dst)
    assert after == fingerprint(mirror.src)
    for p in expected["delete"]:  # type: ignore[attr-defined]
        assert p not in after
    for old, new_name in expected["rename"]:  # type: ignore[attr-defined]
        assert old not in after and after[new_name] == dst_before[old]
    # And the next plan is empty.
    again = _plan_json(mirror)
    assert [again[k]["count"] for k in ("copy", "delete", "rename")] == [0, 0, 0]  # type: ignore[index]


def test_more_deletes_after_the_plan_stop_at_the_cap(
        mirror: MirrorJob, seeded: Callable[[int], Fingerprint]) -> None:
    seeded(12)
    for p in ("docs/f000.bin", "photos/f001.bin"):
        (mirror.src / p).unlink()
    plan = _plan_json(mirror)
    allowed = plan["delete"]["count"]  # type: ignore[index]
    assert allowed == 2
    # Between the plan and the real run, three more files vanish from the source.
    for p in ("music/f002.bin", "docs/f003.bin", "photos/f004.bin"):
        (mirror.src / p).unlink()
    before = fingerprint(mirror.dst)
    res = mirror.run("--allow-deletes", str(allowed))
    assert res.code == 7
    assert mirror.last_start().fields["max_delete"] == str(allowed)
    end = mirror.last_end()
    assert end.kind is MarkerKind.FAILED and end.exit_code == 7
    assert end.fields["reason"].startswith(f"max-delete guard reached, {allowed} of {allowed}")
    assert int(end.fields["deletes"]) == allowed
    after = fingerprint(mirror.dst)
    gone = [p for p in before if p not in after]
    assert len(gone) == allowed  # no more than the plan said
    assert "max-delete guard reached" in res.stdout


def test_plan_takes_the_job_lock(mirror: MirrorJob,
                                 seeded: Callable[[int], Fingerprint]) -> None:
    seeded(3)
    record = lock.LockRecord(pid=os.getpid(), run_id="held-by-test", job="t", mode="sync",
                             log=str(mirror.log),
                             # now: a start days ago would be a stuck lock (exit 69), whatever
                             # day the suite runs on
                             started=datetime.now(UTC).isoformat(timespec="seconds"))
    held = lock.try_acquire(mirror.base / "lock", record)
    assert isinstance(held, lock.HeldLock)
    try:
        res = mirror.cli("plan", "--json", "--offline")
    finally:
        held.release()
    assert res.code == 75
    assert res.stdout == ""
    assert "held-by-test" in res.stderr


def test_plan_refuses_what_the_run_refuses(
        mirror: MirrorJob, seeded: Callable[[int], Fingerprint]) -> None:
    before = seeded(12)
    for i in range(9):
        next(mirror.src.rglob(f"f{i:03d}.bin")).unlink()
    res = mirror.cli("plan", "--offline")
    assert res.code == 78
    assert res.stdout == ""
    assert "ratio" in res.stderr
    forced = mirror.cli("plan", "--json", "--offline", "--force")
    assert forced.code == 0, forced.stderr
    data = json.loads(forced.stdout)
    assert data["delete"]["count"] == 9
    warnings = " | ".join(data["warnings"])
    assert "--force overrides the ratio guard" in warnings
    assert "9 deletes exceed the delete guard of 6" in warnings
    assert_nothing_lost(before, mirror.dst)


def test_plan_for_people_groups_by_top_level_folder(
        mirror: MirrorJob, seeded: Callable[[int], Fingerprint]) -> None:
    seeded(6)
    _mutate_small = ["videos/a.bin", "top.bin"]
    for p in _mutate_small:
        write(mirror.src / p, b"x" * 10)
    res = mirror.cli("plan", "--offline")
    assert res.code == 0, res.stderr
    out = res.stdout
    assert "copy          2 file(s)  20 B" in out
    assert "  (top level)\n    top.bin\n  videos/\n    videos/a.bin\n" in out
    assert "delete guard: 3 (default 50% of 6 destination files) — ok" in out


def test_first_run_over_an_old_mirror_counts_the_destination(mirror: MirrorJob) -> None:
    # No summary yet (a mirror the legacy wrapper made): the runner lists the destination
    # once with `rclone size` and caps deletes at 50 % of its 10 files.
    for i in range(10):
        write(mirror.dst / "old" / f"f{i}.bin", os.urandom(64))
    for i in range(4):
        write(mirror.src / "old" / f"f{i}.bin", (mirror.dst / "old" / f"f{i}.bin").read_bytes())
    assert not mirror.summary.exists()
    res = mirror.run()
    assert res.code == 7
    assert mirror.last_start().fields["max_delete"] == "5"
    assert mirror.last_end().fields["reason"].startswith("max-delete guard reached, 5 of 5")
    assert len(list((mirror.dst / "old").iterdir())) == 5
    # The failed run recorded no baseline: the next run lists the destination again (5 left,
    # cap 2), and one explicit allowance finishes the job.
    assert mirror.summary_data()["last_success_dest_files"] is None
    res = mirror.run("--allow-deletes", "1")
    assert res.code == 0, res.stderr
    assert mirror.summary_data()["last_success_dest_files"] == 4
