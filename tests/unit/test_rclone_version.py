"""Which rclone, and what it can do (tui/core/rclone_version.py), and the pure readings that
differ per version. The log lines below were recorded from real runs of Debian 12's rclone
1.60.1 and the bundled 1.75.2 on this project's machine (2026-12)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sm_testkit import debian_rclone

from tui.config import Job
from tui.core import exitcodes
from tui.core.logline import LogRecord, parse_line
from tui.core.plan import build_plan
from tui.core.rclone_version import (
    Version,
    capabilities,
    degradations,
    parse_version,
    support_problem,
)
from tui.core.runstate import RunState, apply_all
from tui.core.stats import Stats
from tui.ops import rclone_probe
from tui.ops.run.watchdog import Watchdog


def test_parse_version() -> None:
    assert parse_version("rclone v1.60.1-DEV\n- os/version: debian 12.11 (64 bit)\n") == \
        Version(1, 60, 1, "-DEV")
    assert parse_version("rclone v1.75.2\n- go/version: go1.25") == Version(1, 75, 2)
    assert parse_version("v1.74.3") == Version(1, 74, 3)
    assert str(Version(1, 60, 1, "-DEV")) == "v1.60.1-DEV"
    assert Version(1, 60, 1, "-DEV").key == (1, 60, 1)
    for junk in ("", "bash: rclone: not found", "rclone"):
        assert parse_version(junk) is None


def test_capabilities_at_the_two_versions_run_here() -> None:
    old = capabilities(Version(1, 60, 1, "-DEV"))
    assert not (old.rc_unix_socket or old.exit_max_duration or old.listed_stats
                or old.partial_names or old.dry_run_move_target or old.json_notice_level
                or old.hash_filter or old.stats_units or old.rc_auth_default
                or old.rc_cve_2026_49980_fixed)
    assert old.supported and not old.bundled_or_newer
    new = capabilities(Version(1, 75, 2))
    assert all(getattr(new, f) for f in new.__slots__ if f != "version")
    assert capabilities(Version(1, 74, 2)).stats_units
    assert not capabilities(Version(1, 74, 2)).rc_cve_2026_49980_fixed


def test_degradations_one_line_each_and_none_for_the_bundled() -> None:
    assert degradations(Version(1, 75, 2)) == []
    lines = degradations(Version(1, 60, 1, "-DEV"))
    assert len(lines) == 5 and all("\n" not in ln and "v1.60.1-DEV" in ln for ln in lines)
    assert degradations(Version(1, 74, 0)) == [
        "rclone v1.74.0's remote control has CVE-2026-49980 (fixed in 1.74.3): the socket "
        "is root-only, but upgrade rclone"]
    assert support_problem(Version(1, 60, 1)) is None
    assert support_problem(Version(1, 60, 0)) == (
        "rclone v1.60.0 is older than v1.60.1, the oldest this runner supports (Debian 12's)")


# rclone's text stats, "Transferring" line: 1.60.1 has no units, 1.74+ has.
TRANSFERRING_1_60 = " *                                       big.bin: 35% /2.861Mi, 0/s, -"
TRANSFERRING_1_75 = " *                                       big.bin: 35% / 2.861 MiB, 0 B/s, -"


@pytest.mark.parametrize("line", [TRANSFERRING_1_60, TRANSFERRING_1_75])
def test_text_stats_before_and_after_1_74_both_parse(line: str) -> None:
    block = ("Transferred:   \t    1.001 MiB / 2.861 MiB, 35%, 1.000 MiB/s, ETA 1s\n"
             f"Transferring:\n{line}\n")
    stats = Stats.from_text(block)
    assert stats is not None and stats.bytes == int(1.001 * 1024**2)
    (t,) = stats.transferring
    assert (t.name, t.percentage, t.size, t.speed) == ("big.bin", 35, int(2.861 * 1024**2), 0)


# 1.60.1: --max-delete 1 with two deletes due (its stats say deletes=2).
MAX_DELETE_1_60 = [
    '{"level":"info","msg":"Deleted","object":"old1","objectType":"*local.Object","source":"operations/operations.go:721","time":"2026-12-07T01:20:21.908331+00:00"}',
    '{"level":"error","msg":"Got fatal error on delete: --max-delete threshold reached","source":"operations/operations.go:754","time":"2026-12-07T01:20:21.908369+00:00"}',  # noqa: E501
    '{"level":"error","msg":"Cancelling sync due to fatal error: failed to delete 1 files","source":"sync/sync.go:292","time":"2026-12-07T01:20:21.908392+00:00"}',  # noqa: E501
    '{"level":"info","msg":"\\nTransferred:   \\t          7 B / 7 B, 100%, 0 B/s, ETA -\\nErrors:                 2 (fatal error encountered)\\nChecks:                 6 / 6, 100%\\nDeleted:                2 (files), 0 (dirs)\\nRenamed:                1\\nElapsed time:         0.0s\\n\\n","source":"accounting/stats.go:482","stats":{"bytes":7,"checks":6,"deletedDirs":0,"deletes":2,"elapsedTime":0.094756201,"errors":2,"eta":null,"fatalError":true,"lastError":"failed to delete 1 files","renames":1,"retryError":false,"speed":0,"totalBytes":7,"totalChecks":6,"totalTransfers":0,"transferTime":0,"transfers":0},"time":"2026-12-07T01:20:21.90852+00:00"}',  # noqa: E501
]


def test_deletes_are_the_deletes_rclone_made() -> None:
    events = [parse_line(ln) for ln in MAX_DELETE_1_60]
    state = apply_all(RunState(), events)
    assert state.stats is not None and state.stats.deletes == 2  # what 1.60.1 says
    assert state.deletes == 1  # what it did: one `Deleted` line, one refused
    one_by_one = RunState()
    for e in events:
        one_by_one = apply_all(one_by_one, [e])
    assert one_by_one.deletes == 1


# 1.60.1's dry run of a rename: a `move` with no target, then `Renamed from`.
DRY_RUN_RENAME_1_60 = [
    '{"level":"warning","msg":"Skipped move as --dry-run is set (size 6)","object":"a.txt","objectType":"*local.Object","size":6,"skipped":"move","source":"operations/operations.go:2404","time":"2026-12-07T01:20:56.568596+00:00"}',  # noqa: E501
    '{"level":"info","msg":"Renamed from \\"a.txt\\"","object":"a2.txt","objectType":"*local.Object","source":"sync/sync.go:829","time":"2026-12-07T01:20:56.568693+00:00"}',  # noqa: E501
]


def test_plan_reads_1_60_renames_and_its_notices() -> None:
    plan = build_plan(DRY_RUN_RENAME_1_60)
    assert [(r.source, r.target, r.size) for r in plan.renames] == [("a.txt", "a2.txt", 6)]
    assert plan.warnings == ()
    rec = parse_line(DRY_RUN_RENAME_1_60[0])
    assert isinstance(rec, LogRecord) and rec.level == "NOTICE"  # JSON "warning" is NOTICE
    # A move whose new name never shows is said, not dropped.
    alone = build_plan(DRY_RUN_RENAME_1_60[:1])
    assert alone.renames == () and alone.warnings == (
        "1 skipped action(s) of a kind this plan does not list: 'move'",)


def test_cutoff_reason_per_version() -> None:
    errors = ("Local file system at /d: max transfer duration reached as set by "
              "--max-duration",)
    old = exitcodes.cutoff_reason(7, errors, has_exit_10=False, version="v1.60.1-DEV")
    assert old is not None and "exited 7" in old and "v1.60.1-DEV" in old
    assert "has no exit 10" in old
    new = exitcodes.cutoff_reason(10, errors, has_exit_10=True)
    assert new is not None and "exited 10" in new
    assert exitcodes.cutoff_reason(7, errors, has_exit_10=True) is None  # a real fatal 7
    assert exitcodes.cutoff_reason(7, ("bad_auth_token",), has_exit_10=False) is None


def _watchdog_on(rclone: Path, clock: list[float]) -> Watchdog:
    job = Job(rclone=str(rclone), stall_timeout=5)
    return Watchdog(job, lambda: RunState(stats=Stats()), clock=lambda: clock[0])


@pytest.mark.parametrize("which", ["bundled", "debian-1.60.1"])
def test_stall_watchdog_and_a_listing_with_no_visible_progress(
        which: str, rclone_bin: Path) -> None:
    """Nothing has moved yet: 1.75.2 would show `listed` growing, so a still zero is a
    stall; 1.60.1 prints no `listed`, so the watchdog waits (it used to kill the listing)."""
    rclone = rclone_bin if which == "bundled" else debian_rclone()
    clock = [0.0]
    dog = _watchdog_on(rclone, clock)
    assert dog.check() is None
    clock[0] = 60.0
    trip = dog.check()
    if which == "bundled":
        assert not dog.waits_for_listing
        assert trip is not None and trip.code == exitcodes.STALLED
    else:
        assert dog.waits_for_listing and trip is None


def test_probe_caches_per_binary(rclone_bin: Path) -> None:
    info = rclone_probe.probe(rclone_bin)
    assert info is not None and info.bundled and info.path == rclone_bin
    assert info.fields == {"rclone_version": "v1.75.2", "rclone_path": str(rclone_bin)}
    old = rclone_probe.probe(debian_rclone())
    assert old is not None and not old.bundled and str(old.version) == "v1.60.1-DEV"


def test_the_dashboard_says_listed_unknown_for_an_rclone_that_does_not_count() -> None:
    from tui.app.widgets.status import counters_line

    old = apply_all(RunState(), [parse_line(MAX_DELETE_1_60[-1])])
    assert old.stats is not None and not old.stats.listed_known
    assert counters_line(old).plain.endswith("listed –")  # was "listed 0", all run long
    new_line = ('{"time":"2026-12-07T01:42:50.772513448Z","level":"info","msg":"stats",'
                '"stats":{"bytes":23,"checks":0,"listed":1,"transfers":1,"totalTransfers":1}}')
    new = apply_all(RunState(), [parse_line(new_line)])
    assert counters_line(new).plain.endswith("listed 1")
    text = Stats.from_text("Checks:                 6 / 6, 100%\n")  # 1.60.1's text form
    assert text is not None and not text.listed_known
    text = Stats.from_text("Checks:                 2 / 2, 100%, Listed 2\n")  # 1.75.2's
    assert text is not None and text.listed_known and text.listed == 2
