"""After-run metrics: a Prometheus textfile (node_exporter's textfile collector) and a JSON
summary, both written atomically (temp file in the same folder, then rename) so a scrape
never sees half a file. What the summary carries from run to run, and reading it back:
tui/ops/monitor/summary.py."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tui.core.units import count
from tui.ops import safefile
from tui.ops.monitor import prom
from tui.ops.monitor.summary import DELETES_SKIPPED_RUNS, LAST_SUCCESS


@dataclass(frozen=True)
class RunSummary:
    job: str
    run_id: str
    mode: str
    started: float  # unix seconds
    ended: float
    exit_code: int
    outcome: str
    reason: str | None
    bytes: int
    transfers: int
    checks: int
    deletes: int
    renames: int
    errors: int
    # Further flat fields for the JSON summary (the safety guards' file counts, see
    # tui/ops/guards/); appended after the fixed ones.
    extra: Mapping[str, object] = field(default_factory=dict)

    @property
    def duration(self) -> float:
        return max(0.0, self.ended - self.started)

    def as_dict(self) -> dict[str, object]:
        return {
            "job": self.job, "run_id": self.run_id, "mode": self.mode,
            "started": self.started, "ended": self.ended, "duration_s": self.duration,
            "exit_code": self.exit_code, "outcome": self.outcome, "reason": self.reason,
            "bytes": self.bytes, "transfers": self.transfers, "checks": self.checks,
            "deletes": self.deletes, "renames": self.renames, "errors": self.errors,
            **self.extra,
        }


GUARDS = ("empty", "sentinel", "ratio", "max_delete")  # space_mirror_guard_tripped{guard}
DEFAULT_RUN_MAX = 24 * 3600.0  # "a run in progress for too long", when max_duration is unset


Sample = prom.Sample

_IN_PROGRESS = ("run_in_progress", "run_start_timestamp_seconds")


def _samples(s: RunSummary, run_max: float) -> list[Sample]:
    x = s.extra
    tripped = x.get("guards_tripped") or ()
    last_success = x.get(LAST_SUCCESS)
    persistent = x.get("persistent_failed_files")
    out: list[Sample] = [
        ("last_success_timestamp_seconds", "Last successful sync (unix time); carried over "
         "by failed runs.", last_success if isinstance(last_success, (int, float)) else None,
         ""),
        ("last_run_start_timestamp_seconds", "Start of the last run, unix time.", s.started, ""),
        ("last_run_end_timestamp_seconds", "End of the last run, unix time.", s.ended, ""),
        ("last_run_duration_seconds", "Duration of the last run.", s.duration, ""),
        ("last_run_success", "1 if the last run succeeded, else 0.",
         1 if s.outcome == "success" else 0, ""),
        ("last_run_exit_code", "Exit code of the last run.", s.exit_code, ""),
        ("run_in_progress", "1 while a run is going (written at its start).", 0, ""),
        ("run_max_duration_seconds", "How long a run may take (max_duration, else 24 h).",
         run_max, ""),
        ("stalled", "1 if the last run was stopped by the stall watchdog.",
         1 if x.get("stalled") else 0, ""),
        ("deletes_skipped_runs", "Real runs in a row in which rclone skipped every delete "
         "because of I/O errors.", count(x.get(DELETES_SKIPPED_RUNS)) or 0, ""),
        ("persistent_failed_files", "Files that failed in several runs in a row.",
         count(persistent), ""),
        ("last_run_bytes", "Bytes transferred by the last run.", s.bytes, ""),
        ("last_run_transfers", "Files transferred by the last run.", s.transfers, ""),
        ("last_run_checks", "Files checked by the last run.", s.checks, ""),
        ("last_run_deletes", "Files deleted at the destination by the last run.", s.deletes, ""),
        ("last_run_renames", "Files renamed at the destination by the last run.", s.renames, ""),
        ("last_run_errors", "Errors counted by the last run.", s.errors, ""),
        ("last_run_partial_files", "Partial files the last run left at the destination "
         "(counted after a stop; absent when not counted).",
         count(x.get("partials_left")), ""),
    ]
    version = x.get("rclone_version")
    if isinstance(version, str) and version:
        out.append(rclone_info(version))
    for guard in GUARDS:
        out.append(("guard_tripped", "1 if this safety guard stopped the last run.",
                    1 if isinstance(tripped, (list, tuple)) and guard in tripped else 0,
                    f',guard="{guard}"'))
    return out


def rclone_info(version: str) -> Sample:
    """`space_mirror_rclone_info{version=…} 1`: the rclone a run uses (at its end, and live)."""
    return ("rclone_info", "1, labelled with the version of the rclone the run uses.", 1,
            f',version="{prom.label(version)}"')


def prometheus_text(s: RunSummary, run_max: float = DEFAULT_RUN_MAX,
                    more: Sequence[Sample] = ()) -> str:
    """The textfile after a run. Every series is a gauge labelled `job` (docs/runner.md).
    `more`: further samples (the job's thresholds, tui/ops/monitor/live_metrics.py)."""
    return prom.render(s.job, [*_samples(s, run_max), *more])


def in_progress_text(previous: str, job: str, started: float,
                     run_max: float = DEFAULT_RUN_MAX) -> str:
    """The textfile at the start of a run: the last run's series as they were, plus
    `run_in_progress 1` and this run's start, so a run that dies leaves evidence."""
    names = {f"space_mirror_{n}" for n in (*_IN_PROGRESS, "run_max_duration_seconds")}
    kept = [line for line in previous.splitlines()
            if line and not any(names_metric(line, n) for n in names)]
    fresh = prom.render(job, [
        ("run_in_progress", "1 while a run is going (written at its start).", 1, ""),
        ("run_start_timestamp_seconds", "Start of the run in progress, unix time.", started, ""),
        ("run_max_duration_seconds", "How long a run may take (max_duration, else 24 h).",
         run_max, ""),
    ])
    return "\n".join([*kept, fresh.rstrip("\n")]) + "\n"


def names_metric(line: str, metric: str) -> bool:
    """The line is `metric`'s sample, HELP or TYPE."""
    body = line[7:] if line.startswith(("# HELP ", "# TYPE ")) else line
    return body.startswith((metric + "{", metric + " "))


def write_summary(path: Path, data: Mapping[str, object]) -> str | None:
    """The JSON summary, atomically: 0640 in a folder made 0750, because its reason names
    failing files (docs/security.md says who may read what). A warning, or None."""
    try:
        safefile.write_atomic(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))
    except OSError as exc:
        return f"could not write {path}: {exc.strerror or exc}"
    return None


def write_metrics(prom_path: Path, summary_path: Path, s: RunSummary,
                  run_max: float = DEFAULT_RUN_MAX, more: Sequence[Sample] = ()) -> list[str]:
    """Write both files; returns one warning per file that could not be written.

    A dry run leaves the Prometheus file alone: replacing it would drop the real sync's
    series (and hide a failed nightly sync from the alerts) for a run that changed nothing.
    """
    found = ([prom.write(prom_path, prometheus_text(s, run_max, more))]
             if s.mode != "dry-run" else [])
    found.append(write_summary(summary_path, s.as_dict()))
    return [w for w in found if w]


