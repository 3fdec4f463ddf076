"""A run's triage report as plain text."""

from __future__ import annotations

from collections.abc import Sequence

from tui.core.history.model import Run
from tui.core.history.persistent import Persistent, describe
from tui.core.markers import iso


# --- a plain-text triage report -----------------------------------------------------------------
def format_report(run: Run, log_lines: Sequence[str] = (), max_log_lines: int = 200,
                  persistent: Persistent | None = None) -> str:
    """A run's triage report as plain text (for a file, a ticket or the clipboard)."""
    from tui.core import exitcodes
    from tui.core.units import format_bytes, format_duration

    def num(v: int | None) -> str:
        return "unknown" if v is None else str(v)

    meaning = exitcodes.meaning(run.exit_code)
    out = [
        f"space-mirror run {run.id}" + (f" (job {run.job})" if run.job else ""),
        f"outcome:   {run.outcome}" + (" (dry run)" if run.dry_run else ""),
        f"started:   {iso(run.started) or 'unknown'}",
        f"ended:     {iso(run.ended) or 'unknown'}",
        f"duration:  {format_duration(run.duration_s)}",
        f"exit code: {num(run.exit_code)} — {meaning.meaning}",
        f"what to do: {meaning.advice}",
    ]
    if run.reason:
        out.append(f"reason:    {run.reason}")
    out.append(f"bytes {format_bytes(run.bytes) if run.bytes is not None else 'unknown'}, "
               f"transfers {num(run.transfers)}, checks {num(run.checks)}, "
               f"deletes {num(run.deletes)}, renames {num(run.renames)}, "
               f"errors {num(run.errors)}")
    if run.deletes_skipped:
        out.append("WARNING: rclone did not delete anything (\"not deleting files as there were "
                   "IO errors\"): the mirror still holds files removed from the source.")
    repeated = describe(persistent) if persistent is not None else []
    if repeated:
        out.append("")
        out.append("what repeats across runs:")
        out.extend(f"  {line}" for line in repeated)
    if run.error_classes:
        out.append("")
        out.append("error classes:")
        for c in run.error_classes:
            out.append(f"  {c.cls} ×{c.count}: {c.example}")
    if run.failed_files:
        out.append("")
        out.append(f"failed files ({len(run.failed_files)}):")
        out.extend(f"  {f}" for f in run.failed_files)
    if log_lines:
        shown = list(log_lines)[-max_log_lines:]
        out.append("")
        out.append(f"log (last {len(shown)} of {len(log_lines)} lines):")
        out.extend(shown)
    return "\n".join(out) + "\n"
