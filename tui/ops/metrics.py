"""After-run metrics: a Prometheus textfile (node_exporter's textfile collector) and a JSON
summary, both written atomically (temp file in the same folder, then rename) so a scrape
never sees half a file."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tui.ops import safefile


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
    # tui/ops/safety.py); appended after the fixed ones.
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


_METRICS = (
    ("last_run_start_timestamp_seconds", "gauge", "Start of the last run, unix time.", "started"),
    ("last_run_end_timestamp_seconds", "gauge", "End of the last run, unix time.", "ended"),
    ("last_run_duration_seconds", "gauge", "Duration of the last run.", "duration"),
    ("last_run_exit_code", "gauge", "Exit code of the last run.", "exit_code"),
    ("last_run_success", "gauge", "1 if the last run succeeded, else 0.", "success"),
    ("last_run_bytes", "gauge", "Bytes transferred by the last run.", "bytes"),
    ("last_run_transfers", "gauge", "Files transferred by the last run.", "transfers"),
    ("last_run_deletes", "gauge", "Files deleted at the destination by the last run.", "deletes"),
    ("last_run_renames", "gauge", "Files renamed at the destination by the last run.", "renames"),
    ("last_run_errors", "gauge", "Errors counted by the last run.", "errors"),
)


def prometheus_text(s: RunSummary) -> str:
    labels = f'job="{_label(s.job)}",mode="{_label(s.mode)}"'
    values = {
        "started": s.started, "ended": s.ended, "duration": s.duration,
        "exit_code": s.exit_code, "success": 1 if s.outcome == "success" else 0,
        "bytes": s.bytes, "transfers": s.transfers, "deletes": s.deletes,
        "renames": s.renames, "errors": s.errors,
    }
    out: list[str] = []
    for name, kind, help_text, key in _METRICS:
        metric = f"space_mirror_{name}"
        out.append(f"# HELP {metric} {help_text}")
        out.append(f"# TYPE {metric} {kind}")
        out.append(f"{metric}{{{labels}}} {_num(values[key])}")
    return "\n".join(out) + "\n"


def write_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    """Write `text` to `path` so readers see the old file or the new one, never a mix."""
    safefile.write_atomic(path, text.encode("utf-8"), mode)


def write_metrics(prom_path: Path, summary_path: Path, s: RunSummary) -> list[str]:
    """Write both files; returns one warning per file that could not be written.

    A dry run leaves the Prometheus file alone: replacing it would drop the real sync's
    series (and hide a failed nightly sync from the alerts) for a run that changed nothing.
    """
    warnings: list[str] = []
    files = [(summary_path, json.dumps(s.as_dict(), indent=2) + "\n")]
    if s.mode != "dry-run":
        files.insert(0, (prom_path, prometheus_text(s)))
    for path, text in files:
        try:
            write_atomic(path, text)
        except OSError as exc:
            warnings.append(f"could not write {path}: {exc.strerror or exc}")
    return warnings


def lock_metrics_path(prom_path: Path) -> Path:
    """Beside the job's textfile: a lock problem must not replace the last run's series."""
    return prom_path.with_name(f"{prom_path.stem}_lock.prom")


def write_lock_metrics(prom_path: Path, job: str, held_seconds: float, foreign: bool,
                       stuck: bool) -> list[str]:
    """A run that did not start because of the lock: how long it has been held, and
    whether its holder is no runner of this job or has held it too long."""
    labels = f'job="{_label(job)}"'
    lines = []
    for name, help_text, value in (
        ("lock_held_seconds", "How long the job's lock has been held by another process.",
         held_seconds),
        ("lock_foreign_holder", "1 if the lock is held by a process that is no runner of "
         "this job.", 1 if foreign else 0),
        ("lock_stuck", "1 if the lock has been held longer than the job's maximum duration.",
         1 if stuck else 0),
    ):
        metric = f"space_mirror_{name}"
        lines += [f"# HELP {metric} {help_text}", f"# TYPE {metric} gauge",
                  f"{metric}{{{labels}}} {_num(value)}"]
    path = lock_metrics_path(prom_path)
    try:
        write_atomic(path, "\n".join(lines) + "\n")
    except OSError as exc:
        return [f"could not write {path}: {exc.strerror or exc}"]
    return []


def clear_lock_metrics(prom_path: Path) -> None:
    try:
        os.unlink(lock_metrics_path(prom_path))
    except OSError:
        pass


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _num(value: float | int) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.3f}"
    return str(int(value))
