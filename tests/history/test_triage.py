"""Triage classes over real rclone error messages (from rclone runs here, and from the
messages rclone's backends and Go's runtime print)."""

from __future__ import annotations

import pytest

from tui.core.stats import Stats
from tui.core.triage import CLASSES, Tally, classify, is_consequence


@pytest.mark.parametrize(("text", "cls"), [
    ("Local file system at /tmp/x/nope: error reading source root directory: directory not "
     "found", "source-missing"),
    ("e/x: Failed to copy: mkdir /tmp/hx/dst/e: not a directory", "io"),
    ("big/a.bin: Failed to copy: read /space/big/a.bin: input/output error", "io"),
    ("dangling: Listing error: symlink: stat /tmp/src/dangling: no such file or directory",
     "not-found"),
    ("S3 bucket bucket: error reading destination root directory: operation error S3: "
     "ListObjects, exceeded maximum number of attempts, 1, https response error StatusCode: 0, "
     "RequestID: , HostID: , request send failed, Get \"http://127.0.0.1:47269/bucket\": "
     "dial tcp 127.0.0.1:47269: connect: connection refused", "network"),
    ("Failed to create file system for \":b2:bucket\": failed to authorize account: failed to "
     "authenticate: Unauthorized (401 bad_auth_token)", "auth"),
    ("a.bin: Failed to copy: Post \"https://pod-000.backblaze.com/b2api\": dial tcp: lookup "
     "pod-000.backblaze.com: no such host", "network"),
    ("a.bin: Failed to copy: Storage cap exceeded (403 storage_cap_exceeded)", "quota"),
    ("a.bin: Failed to copy: Too Many Requests (429 too_many_requests)", "rate-limit"),
    ("a.bin: Failed to copy: open /space/a.bin: permission denied", "permission"),
    ("a.bin: Failed to copy: AccessDenied: Access Denied status code: 403", "permission"),
    ("a.bin: Failed to copy: write /mnt/b/a.bin: no space left on device", "quota"),
    ("Signal received: interrupt", "interrupted"),
    # The job's own limits, recorded from rclone 1.75.2 (tests/snapshots/logs/failed.log and
    # tests/integration/test_window_end.py): a decision to make, not a fault to repair.
    ("music/file-002.bin: Got fatal error on delete: --max-delete threshold reached", "limit"),
    ("Failed to sync: max transfer duration reached as set by --max-duration", "limit"),
    ("something nobody has seen before", "other"),
])
def test_classify(text: str, cls: str) -> None:
    assert cls in CLASSES
    assert classify(text) == cls


def test_the_guards_cancel_line_is_a_consequence() -> None:
    """After the cap, rclone says why it stops; that restates the limit, it is no cause."""
    assert is_consequence("Cancelling sync due to fatal error: failed to delete 3 files")


def test_rclones_no_retry_note_is_no_cause() -> None:
    """`Fatal error received - not attempting retries` says rclone gives up; the fatal
    error is its own line (issue 18: the demo's failure counted it as a cause)."""
    from tui.core.remedy import count_once

    assert is_consequence("Fatal error received - not attempting retries")
    counted = count_once([
        ("a.bin", "Failed to copy: 403 storage_cap_exceeded"),
        (None, "Fatal error received - not attempting retries"),
    ])
    assert [(c.cls, c.count) for c in counted.classes] == [("quota", 1)]
    assert counted.files == ("a.bin",)


def test_one_counter_for_the_runner_history_and_the_run_detail() -> None:
    """The runner's end reason (a record at a time), history and the run detail count with
    the same Tally: the same records give the same classes, files and attempts."""
    from tui.core.remedy import count_once, error_count

    records = [("x/a.txt", "Failed to copy: open: permission denied"),
               (None, "Attempt 1/3 failed with 1 errors and: permission denied"),
               ("x/a.txt", "Failed to copy: open: permission denied"),
               (None, "Attempt 2/3 failed with 1 errors and: permission denied")]
    tally = Tally()
    for obj, msg in records:
        tally.add_record(obj, msg)
    assert error_count(tally) == count_once(records)
    assert error_count(tally).attempts == 2 and error_count(tally).files == ("x/a.txt",)


def test_summary_lines_are_not_causes() -> None:
    tally = Tally()
    assert tally.add("Attempt 1/3 failed with 1 errors and: directory not found") is None
    assert tally.add("Local file system at /d: not deleting files as there were IO errors") \
        is None
    assert is_consequence("Failed to sync with 2 errors: last error was: x")
    assert tally.add("a: Failed to copy: x: input/output error") == "io"
    assert tally.add("b: Failed to copy: x: input/output error") == "io"
    assert tally.add("c: open: permission denied") == "permission"
    result = tally.result()
    assert [(c.cls, c.count) for c in result] == [("io", 2), ("permission", 1)]
    assert result[0].example == "a: Failed to copy: x: input/output error"


def test_old_text_stats_format() -> None:
    """rclone before 1.56 printed MBytes and short units."""
    block = ("Transferred:   1.234M / 2.345 MBytes, 52%, 1.2 MBytes/s, ETA 1s\n"
             "Errors:                 2 (retrying may help)\n"
             "Checks:                 4 / 4, 100%\n"
             "Deleted:                1 (files), 0 (dirs)\n"
             "Transferred:            3 / 6, 50%\n"
             "Elapsed time:       1m2.5s\n")
    s = Stats.from_text(block)
    assert s is not None
    assert s.bytes == int(1.234 * 1024 * 1024)
    assert s.total_bytes == int(2.345 * 1024 * 1024)
    assert (s.transfers, s.total_transfers, s.checks, s.deletes, s.errors) == (3, 6, 4, 1, 2)
    assert s.elapsed == pytest.approx(62.5)


def test_core_history_imports_no_ui_and_no_ops() -> None:
    import subprocess
    import sys

    code = ("import sys, tui.core.history, tui.core.triage; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich') "
            "or m.startswith('tui.ops') or m.startswith('tui.app')]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_file_names_do_not_decide_the_class() -> None:
    """A file called IMG-401.jpg or quota-2024.xlsx failing on a network error is a network
    error: the class comes from rclone's message, the example keeps the whole line."""
    tally = Tally()
    tally.add("Failed to copy: dial tcp 127.0.0.1:9: connect: connection refused",
              example="photos/IMG-401.jpg: Failed to copy: dial tcp 127.0.0.1:9: connect: "
                      "connection refused")
    tally.add("Failed to copy: connection reset by peer",
              example="docs/quota-2024.xlsx: Failed to copy: connection reset by peer")
    classes = tally.result()
    assert [(c.cls, c.count) for c in classes] == [("network", 2)]
    assert classes[0].example.startswith("photos/IMG-401.jpg")


def test_issue22_no_object_source_directory_not_found_is_source_missing() -> None:
    """`ERROR : : error reading source directory: directory not found` names no object: the
    source root itself is missing (its remedy is the mount), not a vanished file."""
    from tui.core.triage import classify

    msg = "error reading source directory: directory not found"
    assert classify(msg) == "source-missing"  # a JSON line with no `object`
    assert classify(msg, None, "") == "source-missing"
    assert classify(": " + msg) == "source-missing"  # the text form, object left empty
    assert classify("photos/a: " + msg, None, "photos/a") == "not-found"  # a sub-folder
