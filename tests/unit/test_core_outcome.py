"""The dashboard's reason (tui/core/outcome.py) and the run detail's first lines
(tui/core/rundetail.py), on a real recorded run (tests/fixtures/remedy/)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tui.config import Job
from tui.core.history import scan_history
from tui.core.history.model import Run
from tui.core.outcome import count_for, counted, outcome_text
from tui.core.remedy import ErrorCount
from tui.core.rundetail import answer_lines

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "remedy" / "readonly-and-dirfile.jsonl"
LOCAL = Job(name="t", source="/tmp/rem/src", destination="/tmp/rem/dst", env_file=None)
RUN = "20261204T100000-abcd"
START = (f"[2026-12-04T10:00:00+00:00] Starting Space Mirror... run={RUN} job=t mode=sync "
         "pid=1 by=cli\n")
LEGACY = ("Error not otherwise categorised. Last error: Attempt 3/3 failed with 3 errors and: "
          "mkdir /tmp/rem/dst/dirfile: not a directory")


def _run(tmp_path: Path, code: int = 1, reason: str = LEGACY) -> Run:
    end = (f"[2026-12-04T10:00:05+00:00] Space Mirror FAILED with exit code {code} run={RUN} "
           f"reason=\"{reason}\" bytes=0 transfers=0 checks=0 deletes=0 renames=0 errors=3 "
           "elapsed=5.0\n")
    log = tmp_path / "log"
    log.write_text(START + FIXTURE.read_text() + end)
    (run,) = scan_history(log, use_cache=False).runs
    return run


def test_an_old_reason_gives_way_to_the_counted_classes(tmp_path: Path) -> None:
    run = _run(tmp_path)
    count = count_for(counted(run), RUN, legacy=False)
    assert count is not None and count.attempts == 3
    text, advice = outcome_text(run.reason, 1, count, LOCAL)
    assert text.startswith("permission ×2 (ro/a.txt: open /tmp/rem/dst/ro/a.txt.")
    assert "Attempt" not in text and advice is None
    # Another run's count is not this run's.
    assert count_for(counted(run), "another", legacy=False) is None


def test_without_classes_the_old_reason_is_cleaned() -> None:
    text, advice = outcome_text(LEGACY, 1, None, LOCAL)
    assert text == ("Error not otherwise categorised. Last error: mkdir /tmp/rem/dst/dirfile: "
                    "not a directory")
    assert advice is not None and "ERROR lines" in advice


def test_exit_code_reasons_are_kept() -> None:
    guard = ("max-delete guard reached, 5 of 5 deletes allowed (the sync wanted more); check "
             "the source, see `space-mirror plan`, and allow them with `space-mirror run "
             "--allow-deletes N`")
    some = ErrorCount((), (), None, None, 0)
    assert outcome_text(guard, 7, some, LOCAL)[0] == guard
    prescribed = "permission ×2 (ro/a.txt: …) — cannot write at the destination: …"
    assert outcome_text(prescribed, 1, None, LOCAL) == (prescribed, None)


def test_an_exit_9_run_with_a_failed_file_is_told_what_to_do(tmp_path: Path) -> None:
    run = replace(_run(tmp_path), exit_code=9)
    lines = answer_lines(run, LOCAL)
    text = "\n".join(lines)
    assert "Nothing to do" not in text
    assert "Why: 3 causes (each file once, rclone tried 3 times)" in text
    files = next(line for line in lines if line.startswith("Files (3): "))
    assert sorted(files[len("Files (3): "):].split(", ")) == ["dirfile/x.txt", "ro/a.txt",
                                                              "ro/b.txt"]
    assert "→ cannot write at the destination" in text
    assert "→ a path is a file at the destination where the source has a folder" in text


def test_a_verify_runs_differences_get_the_verify_remedy(tmp_path: Path) -> None:
    """rclone check's ERROR lines (recorded from rclone 1.75.2) class as other/io, whose
    sync remedies ("re-run") are wrong for a verify: the detail says what a difference needs."""
    from tui.core.triage import ClassCount

    run = replace(_run(tmp_path), mode="verify", failed_files=["f5.bin", "f3.bin"],
                  error_classes=[ClassCount("other", 1, "f5.bin: file not in Local file "
                                            "system at g24v/dst"),
                                 ClassCount("io", 1, "f3.bin: md5 differ")])
    text = "\n".join(answer_lines(run, LOCAL))
    assert "Files (2): f5.bin, f3.bin" in text
    assert "→ missing on the destination: the next `space-mirror run` copies it" in text
    assert "→ the destination's copy differs (bit rot" in text
    assert "re-run; if it repeats" not in text


def test_a_run_a_retry_got_through_is_not_explained_as_a_failure(tmp_path: Path) -> None:
    """A real rclone run whose first attempt could not read a source file and whose second
    copied it (exit 0): its detail said "Why: 1 cause" under SUCCESS."""
    retried = FIXTURE.with_name("retried-then-succeeded.jsonl")
    log = tmp_path / "log"
    log.write_text(START + retried.read_text() + f"[2026-12-04T10:00:05+00:00] Space Mirror "
                   f"Complete. run={RUN} exit=0 bytes=13 transfers=2 checks=1 deletes=0 "
                   "renames=0 errors=0 elapsed=2.0\n")
    (run,) = scan_history(log, use_cache=False).runs
    assert run.failed_files == () and not run.deletes_skipped
    lines = answer_lines(run, LOCAL)
    assert lines[0].startswith("SUCCESS · exit 0")
    assert not any(line.startswith("Why:") for line in lines), lines
    assert lines[1].startswith("Nothing failed in the end: rclone's attempt 2 went through. "
                               "The failed attempt met 1 cause"), lines
    assert any("cannot read the source" in line for line in lines), lines
    # The history's Notes say it was retried, in the CLI's table and on the screen alike.
    from tui.app.screens.history import run_cells
    from tui.history_cli import run_notes

    assert run_notes(run) == "retried: permission ×1"
    assert str(run_cells(run)[-1]) == "retried: permission ×1"

