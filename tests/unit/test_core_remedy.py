"""Remedies and the reason line, from real rclone logs (tests/fixtures/remedy/README.md):
each failing file counted once per run however often rclone retried it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.config import Job
from tui.core.logline import LogRecord, parse_line
from tui.core.remedy import bucket, clean_reason, count_once, reason_line, remedy
from tui.core.triage import CLASSES, ClassCount

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "remedy"
SEED = Job()  # /space → :b2:miket-space-mirror, /etc/miket/storage-credentials.env
LOCAL = Job(name="t", source="/tmp/rem/src", destination="/tmp/rem/dst", env_file=None)
S3 = Job(name="t", source="/tmp/rem/src", destination=":s3:bucket",
         env_file=Path("/etc/space-mirror/s3.env"))


def error_records(name: str) -> list[tuple[str | None, str]]:
    out: list[tuple[str | None, str]] = []
    for line in (FIXTURES / name).read_text().splitlines():
        rec = parse_line(line)
        if isinstance(rec, LogRecord) and rec.is_error:
            out.append((rec.object, rec.msg))
    return out


def test_retries_are_not_more_failures() -> None:
    records = error_records("readonly-and-dirfile.jsonl")
    assert len(records) == 18  # 3 files × 3 attempts, plus rclone's summaries
    count = count_once(records)
    assert count.error_lines == 9
    assert (count.attempts, count.max_attempts) == (3, 3)
    assert [(c.cls, c.count) for c in count.classes] == [("permission", 2), ("io", 1)]
    assert count.causes == 3
    assert count.files == ("dirfile/x.txt", "ro/a.txt", "ro/b.txt")
    assert count.classes[1].example == ("dirfile/x.txt: Failed to copy: mkdir /tmp/rem/dst/"
                                        "dirfile: not a directory")


def test_reason_line_leads_with_class_count_example_then_remedy() -> None:
    count = count_once(error_records("readonly-and-dirfile.jsonl"))
    line = reason_line(count, LOCAL)
    assert line.startswith("permission ×2 (ro/a.txt: open /tmp/rem/dst/ro/a.txt.")
    assert "— cannot write at the destination: make the folders named writable by the " \
           "runner (root) under /tmp/rem/dst" in line
    assert line.endswith("; 3 attempts; +1 other class")
    assert "Attempt" not in line
    short = reason_line(count, LOCAL, width=len(line))
    assert short == line
    cut = reason_line(count, LOCAL, width=len(line) - 20)
    assert len(cut) <= len(line) - 20 and "…)" in cut and cut.startswith("permission ×2 (")
    assert reason_line(count, LOCAL, width=20).startswith("permission ×2 — cannot write")


def test_auth_remedy_names_the_real_variables_and_file() -> None:
    count = count_once(error_records("s3auth.jsonl"))
    assert [(c.cls, c.count) for c in count.classes] == [("auth", 1)]
    assert (count.attempts, count.error_lines) == (2, 2)
    assert count.files == ()  # a whole-remote error names no file
    line = reason_line(count, S3)
    assert line.startswith("auth ×1 (")
    assert ("S3 rejected the credentials: check RCLONE_S3_ACCESS_KEY_ID and "
            "RCLONE_S3_SECRET_ACCESS_KEY in /etc/space-mirror/s3.env") in line
    assert remedy("auth", SEED) == (
        "the B2 key was rejected (a wrong or expired key): check B2_APPLICATION_KEY_ID and "
        "B2_APPLICATION_KEY in "
        "/etc/miket/storage-credentials.env and that the key is not expired, deleted or "
        "restricted to another bucket than miket-space-mirror")


def test_network_remedy() -> None:
    count = count_once(error_records("net.jsonl"))
    assert [c.cls for c in count.classes] == ["network"]
    assert "S3 could not be reached: check DNS" in reason_line(count, S3)


@pytest.mark.parametrize("cls", CLASSES)
def test_every_class_has_a_short_remedy_for_every_backend(cls: str) -> None:
    for job in (SEED, LOCAL, S3, Job(destination="photos:backup")):
        text = remedy(cls, job)
        assert text and "\n" not in text and len(text) <= 240, (cls, job.destination, text)
        assert "{" not in text  # no unfilled placeholder


def test_remedies_use_the_jobs_paths() -> None:
    assert "findmnt /space" in remedy("source-missing", SEED)
    assert "under /tmp/rem/dst" in remedy("io", LOCAL, "x: mkdir /tmp/rem/dst/x: not a directory")
    assert "df -h /tmp/rem/dst" in remedy("quota", LOCAL, "no space left on device")
    assert "Caps & Alerts" in remedy("quota", SEED, "cap_exceeded")
    # Each of B2's caps names itself, and the storage cap points at what fills it.
    storage = remedy("quota", SEED, "Failed to copy: Cannot upload files, storage cap "
                     "exceeded. (403 storage_cap_exceeded)")
    assert "storage cap" in storage and "space-mirror audit" in storage
    download = remedy("quota", SEED, "download cap exceeded (403 download_cap_exceeded)")
    assert "download cap" in download and "daily reset" in download
    assert "transaction cap" in remedy("quota", SEED, "(403 transaction_cap_exceeded)")
    assert "rclone config reconnect photos:" in remedy("auth", Job(destination="photos:backup"))


def test_without_classes_the_fallback_loses_the_attempt_summary() -> None:
    reason = ("Error not otherwise categorised. Last error: Attempt 3/3 failed with 37 errors "
              "and: failed to set directory modtime: permission denied")
    assert clean_reason(reason) == ("Error not otherwise categorised. Last error: failed to set "
                                    "directory modtime: permission denied")
    assert reason_line((), SEED, fallback=reason) == clean_reason(reason)
    assert reason_line([ClassCount("quota", 4, "x: cap_exceeded")], SEED).startswith(
        "quota ×4 (x: cap_exceeded) — the B2 account hit a cap")


def test_a_source_that_cannot_be_read_is_the_sources_remedy() -> None:
    """rclone says `Failed to copy: failed to open source object: … permission denied` for a
    source file it cannot read; the remedy sent the operator to make the destination
    writable ("failed to copy" read as the writing side)."""
    count = count_once(error_records("unreadable-source.jsonl"))
    assert [(c.cls, c.count) for c in count.classes] == [("permission", 1)]
    line = reason_line(count, LOCAL)
    assert "cannot read the source" in line and "/tmp/rem/src" in line, line
    assert "destination" not in line.split(" — ", 1)[1], line
    # A path is named only at a path's boundary: /tmp/rem/src is not in /tmp/rem/src-old.
    other = Job(name="t", source="/tmp/rem/src", destination="/tmp/rem/src-old")
    wrote = "x: Failed to copy: open /tmp/rem/src-old/x.partial: permission denied"
    assert remedy("permission", other, wrote).startswith("cannot write at the destination")


def test_a_source_file_being_written_is_named_as_such() -> None:
    """rclone's `can't copy - source file is being updated` (from the real-error corpus) got
    the generic "reading or writing files failed"."""
    line = ("Failed to copy: can't copy - source file is being updated (size changed from "
            "79583100 to 19922944)")
    told = remedy("io", SEED, line)
    assert told.startswith("a file under /space changed while rclone copied it"), told


def test_b2_remedies_name_what_really_ran_out() -> None:
    """From the real-error corpus, for the seed's B2 job: a full /tmp while rclone staged an
    upload was `df -h :b2:miket-space-mirror`, and B2's 24-hour session token expiring was
    "the B2 key was rejected"."""
    tmp = ("2024/07/29 12:32:10 ERROR : FNEO-014.mp4: Failed to copy: failed to upload: failed "
           "to calculate SHA1: write /tmp/rclone-115-sha1sum-2142032200: no space left on "
           "device")
    told = remedy("quota", SEED, tmp)
    assert told.startswith("this host's disk is full under /tmp (`df -h /tmp`), not B2"), told
    assert ":b2:" not in told
    local_full = "x: Failed to copy: write /tmp/rem/dst/x.partial: no space left on device"
    assert remedy("quota", LOCAL, local_full).startswith(
        "the destination's disk is full: free space under /tmp/rem/dst")
    token = ("x: Failed to copy: Failed to upload: Authorization token has expired (401 "
             "expired_auth_token)")
    told = remedy("auth", SEED, token)
    assert told.startswith("B2's session token expired during the run") and "re-run" in told
    assert remedy("auth", SEED, "Failed to authorize: 401 bad_auth_token").startswith(
        "the B2 key was rejected")


def test_a_destination_not_found_is_not_a_changing_source() -> None:
    line = ("2022/07/13 12:54:13 ERROR : estuary root 'testdir': error reading destination "
            "root directory: HTTP error 404 (404 Not Found)")
    told = remedy("not-found", SEED, line)
    assert told.startswith("the destination :b2:miket-space-mirror could not be listed"), told


def test_bucket() -> None:
    assert bucket(":b2:miket-space-mirror/sub") == "miket-space-mirror"
    assert bucket(":s3,provider=Other:b") == "b"
    assert bucket("photos:backup/x") == "backup"
    assert bucket("/mnt/mirror") == "/mnt/mirror"


def test_count_log_lines_reads_the_runs_lines() -> None:
    from tui.core.remedy import count_log_lines

    lines = (FIXTURES / "readonly-and-dirfile.jsonl").read_text().splitlines()
    assert count_log_lines(lines) == count_once(error_records("readonly-and-dirfile.jsonl"))
    assert count_log_lines(lines).causes == 3


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_count_log_lines_reads_both_formats(fmt: str) -> None:
    from tui.core.remedy import count_log_lines

    log = Path(__file__).resolve().parents[1] / "fixtures" / fmt / "missing-source.log"
    count = count_log_lines(log.read_text().splitlines())
    assert [(c.cls, c.count) for c in count.classes] == [("source-missing", 1)]
    assert (count.attempts, count.files) == (1, ())
    assert reason_line(count, SEED).startswith(
        "source-missing ×1 (Local file system at /SRC: error reading source root directory: "
        "directory not found) — the source /space is missing or not mounted")
