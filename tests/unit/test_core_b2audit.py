"""tui/core/b2audit.py: the B2 audit model from recorded real rclone listings (rclone
1.75.2 against the B2 shim: `lsjson -R --files-only` with and without --b2-versions)."""

from __future__ import annotations

import pytest

from tui.core.b2audit import (
    OK,
    WARNING,
    Unfinished,
    assess,
    delete_meaning,
    hard_delete_on,
    lifecycle_command,
    lifecycle_cover,
    strip_version,
)

# Recorded: a.txt live; over.txt overwritten once; d/gone.txt deleted without hard delete;
# big.bin an upload SIGKILLed after its first part (its start marker shows as a 0-byte file).
LIVE = [
    {"Path": "a.txt", "Size": 3, "IsDir": False, "ID": "0999999999999999"},
    {"Path": "over.txt", "Size": 4, "IsDir": False, "ID": "0999999999999996"},
]
VERSIONS = [
    {"Path": "a.txt", "Size": 3, "IsDir": False, "ID": "0999999999999999"},
    {"Path": "big.bin", "Size": 0, "IsDir": False, "ID": "0999999999999994"},
    {"Path": "d/gone-v2026-12-07-012923-439.txt", "Size": 5, "IsDir": False,
     "ID": "0999999999999997"},
    {"Path": "over.txt", "Size": 4, "IsDir": False, "ID": "0999999999999996"},
    {"Path": "over-v2026-12-07-012923-416.txt", "Size": 3, "IsDir": False,
     "ID": "0999999999999998"},
]
BIG = Unfinished("big.bin", "0999999999999994", 1_796_607_087_492, 5 * 1024 * 1024)


def test_strip_version() -> None:
    assert strip_version("d/gone-v2026-12-07-012923-439.txt") == (
        "d/gone.txt", "2026-12-07T01:29:23.439Z")
    assert strip_version("noext-v2026-01-02-030405-006") == ("noext", "2026-01-02T03:04:05.006Z")
    assert strip_version("a.tar-v2026-01-02-030405-006.gz")[0] == "a.tar.gz"
    assert strip_version("plain-v2.txt") == ("plain-v2.txt", None)
    assert strip_version("dir-v2026-12-07-012923-439/x.txt") == (
        "dir-v2026-12-07-012923-439/x.txt", None)  # only the file name carries a version


def test_build_classifies_hidden_old_and_unfinished() -> None:
    a = assess(":b2:b", ":b2:b", LIVE, VERSIONS, [BIG], [], hard_delete=True,
              price_per_tb_month=6.0)
    assert (a.live_count, a.live_bytes) == (2, 7)
    assert (a.hidden_count, a.hidden_bytes) == (1, 5)
    assert (a.old_count, a.old_bytes) == (1, 3)
    assert a.unfinished_bytes == 5 * 1024 * 1024
    assert a.extra_bytes == 5 + 3 + 5 * 1024 * 1024
    assert a.cost(10**12) == 6.0
    assert a.code == WARNING
    assert [f.kind for f in a.findings] == ["hidden", "old-versions", "unfinished"]
    assert a.to_json()["unfinished_large_files"]["oldest_started_ms"] == BIG.started_ms


def test_a_rule_covers_the_findings() -> None:
    rules = [{"fileNamePrefix": "", "daysFromHidingToDeleting": 1,
              "daysFromStartingToCancelingUnfinishedLargeFiles": 3}]
    a = assess(":b2:b", ":b2:b", LIVE, VERSIONS, [BIG], rules, hard_delete=False)
    assert a.code == OK and all(f.covered for f in a.findings)
    assert assess(":b2:b", ":b2:b", LIVE, LIVE, [], [], True).findings == ()


def test_lifecycle_cover_and_command() -> None:
    assert not lifecycle_cover([]).removes_versions
    assert not lifecycle_cover(None).known
    other = [{"fileNamePrefix": "logs/", "daysFromHidingToDeleting": 1}]
    assert not lifecycle_cover(other).removes_versions  # another prefix covers not the job
    both = lifecycle_cover([{"fileNamePrefix": "", "daysFromHidingToDeleting": 30},
                            {"fileNamePrefix": "", "daysFromHidingToDeleting": 7}])
    assert both.hide_days == 7
    # rclone replaces the rules whole: the command keeps the rule already there.
    assert lifecycle_command(":b2:b", both) == (
        "rclone backend lifecycle :b2:b -o daysFromHidingToDeleting=7 "
        "-o daysFromStartingToCancelingUnfinishedLargeFiles=1")


@pytest.mark.parametrize(("flags", "env", "on"), [
    ((), {}, False),
    ((), {"RCLONE_B2_HARD_DELETE": "true"}, True),
    (("--b2-hard-delete",), {"RCLONE_B2_HARD_DELETE": "false"}, True),
    (("--b2-hard-delete=false",), {"RCLONE_B2_HARD_DELETE": "true"}, False),
])
def test_hard_delete_on(flags: tuple[str, ...], env: dict[str, str], on: bool) -> None:
    assert hard_delete_on(flags, env) is on


def test_delete_meaning() -> None:
    assert delete_meaning("local", True) is None
    assert "permanent" in (delete_meaning("b2", True) or "")
    assert "lifecycle rule" in (delete_meaning("b2", False) or "")
