"""What a run's detail says first, at 80x24: why it failed, which files, what to do (issue 15).

The answer comes from the run's error classes (counted once per file or cause) and, with the
job, each class's remedy (tui.core.remedy): not from the exit code alone, which told an
exit-9 run that had a failed file "Nothing to do unless changes were expected". rclone's
attempts are shown apart from the counts. Pure (no textual).
"""

from __future__ import annotations

from tui.core import exitcodes
from tui.core.history.model import Run
from tui.core.remedy import (
    VERIFY_REMEDIES,
    JobFacts,
    clean_reason,
    remedy,
    short_example,
    verify_class,
)
from tui.core.runstate import Outcome
from tui.core.units import count_text, format_bytes, format_duration

FILES_SHOWN = 6  # failed files listed on the first screen (the rest further down)




def classes_note(run: Run, most: int) -> str:
    """The history's Notes cell for the error classes: `permission ×2, io ×1`; for a run a
    retry got through, `retried: permission ×1` (what the failed attempts met, not why the
    run ended)."""
    if not run.error_classes:
        return ""
    text = ", ".join(f"{c.cls} ×{c.count}" for c in run.error_classes[:most])
    return f"retried: {text}" if run.outcome is Outcome.SUCCESS else text


def _cell(value: int | None) -> str:
    return count_text(value, "unknown")


def _head(run: Run) -> str:
    started = run.started.strftime("%Y-%m-%d %H:%M %Z") if run.started else "unknown"
    attempts = f" · {run.attempts} attempts" if run.attempts and run.attempts > 1 else ""
    return (f"{str(run.outcome).upper()} · exit {_cell(run.exit_code)} · {started}"
            f" · took {format_duration(run.duration_s)}{attempts}"
            + (" · dry run" if run.dry_run else ""))


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def answer_lines(run: Run, job: JobFacts | None, width: int = 72) -> list[str]:
    """Why (classes ×count, counted once per file or cause), which files, what to do."""
    meaning = exitcodes.meaning(run.exit_code)
    lines = [_head(run)]
    if not run.error_classes:
        lines.append(f"Why: {meaning.meaning}")
        if run.reason and run.reason != meaning.meaning:
            lines.append(f"Reason: {clean_reason(run.reason)}")
        lines.append(f"What to do: {meaning.advice}")
        return lines
    causes = sum(c.count for c in run.error_classes)
    plural = "s" if causes != 1 else ""
    if run.outcome is Outcome.SUCCESS:
        # A retry went through (`runstate.left_undone`): what the failed attempts met is
        # told, never as the reason for an ending that was a success.
        failed = run.attempts or 1
        lines.append(f"Nothing failed in the end: rclone's attempt {failed + 1} went through. "
                     f"The failed attempt{'s' if failed > 1 else ''} met {causes} cause{plural} "
                     "(each file once); if it comes back night after night:")
    else:
        tries = (f", rclone tried {run.attempts} times" if run.attempts and run.attempts > 1
                 else "")
        lines.append(f"Why: {causes} cause{plural} (each file once{tries})")
    if run.failed_files:
        shown = run.failed_files[:FILES_SHOWN]
        more = len(run.failed_files) - len(shown)
        lines.append(_cut(f"Files ({len(run.failed_files)}): " + ", ".join(shown)
                          + (f", … {more} more below" if more > 0 else ""), width * 2))
    for c in run.error_classes:
        lines.append(_cut(f"  {c.cls} ×{c.count}: {short_example(c.example)}", width))
        if run.mode == "verify":  # a difference rclone check found, not a failed copy
            lines.append(f"    → {VERIFY_REMEDIES[verify_class(c.example)]}")
        elif job is not None:
            lines.append(f"    → {remedy(c.cls, job, c.example)}")
    if job is None and run.mode != "verify":
        lines.append("What to do: see each cause; its remedy needs the job (open the run "
                     "from the job's dashboard with `l`)")
    return lines


def facts_lines(run: Run) -> list[str]:
    """The rest of the summary: counters, the exit code's meaning, the marker's reason."""
    meaning = exitcodes.meaning(run.exit_code)
    lines = [
        f"{format_bytes(run.bytes) if run.bytes is not None else '? bytes'}  ·  "
        f"{_cell(run.transfers)} transferred  ·  {_cell(run.checks)} checked  ·  "
        f"{_cell(run.deletes)} deleted  ·  {_cell(run.renames)} renamed  ·  "
        f"{_cell(run.errors)} errors (rclone's count, retries included)",
        f"Exit {_cell(run.exit_code)} ({meaning.name}): {meaning.meaning}",
    ]
    # The runner's reason already leads with the main class (`permission ×2 (…) — …`): the
    # answer above says it; an older run's reason is rclone's last error, worth a line.
    if run.error_classes and run.reason and " ×" not in run.reason.split(" (", 1)[0]:
        lines.append(f"Reason: {clean_reason(run.reason)}")
    if run.deletes_skipped:
        lines.append("⚠ rclone skipped every delete (\"not deleting files as there were IO "
                     "errors\"): the mirror still holds files removed from the source.")
    return lines
