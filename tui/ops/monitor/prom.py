"""The one Prometheus text renderer: every textfile we write for node_exporter's textfile
collector (run metrics, lock metrics, verify metrics) goes through `render`, so names,
labels, escaping and number formats cannot drift between files."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from tui.ops import safefile

PREFIX = "space_mirror_"
# name (without the prefix), help, value (None: the series is left out, never a made-up 0),
# extra labels (`,guard="empty"`)
Sample = tuple[str, str, float | int | None, str]


def label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def number(value: float | int) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.3f}"
    return str(int(value))


def render(job: str, samples: Iterable[Sample]) -> str:
    """Gauges labelled `job`, each HELP and TYPE once, in the order given."""
    labels = f'job="{label(job)}"'
    out: list[str] = []
    seen: set[str] = set()
    for name, help_text, value, extra in samples:
        if value is None:
            continue  # an unknown value is an absent series, never a made-up 0
        metric = PREFIX + name
        if metric not in seen:
            seen.add(metric)
            out.append(f"# HELP {metric} {help_text}")
            out.append(f"# TYPE {metric} gauge")
        out.append(f"{metric}{{{labels}{extra}}} {number(value)}")
    return "\n".join(out) + "\n"


def write(path: Path, text: str, mode: int = 0o644) -> str | None:
    """Atomically (a scrape sees the old file or the new); a warning when it cannot be
    written, never fatal. 0644: node_exporter reads it as its own user, and no series
    carries a file name."""
    try:
        safefile.write_atomic(path, text.encode("utf-8"), mode, 0o755)
    except OSError as exc:
        return f"could not write {path}: {exc.strerror or exc}"
    return None


def lock_metrics_path(prom_path: Path) -> Path:
    """Beside the job's textfile: a lock problem must not replace the last run's series."""
    return prom_path.with_name(f"{prom_path.stem}_lock.prom")


def write_lock_metrics(prom_path: Path, job: str, held_seconds: float, foreign: bool,
                       stuck: bool) -> list[str]:
    """A run that did not start because of the lock: how long it has been held, and
    whether its holder is no runner of this job or has held it too long."""
    text = render(job, [
        ("lock_held_seconds", "How long the job's lock has been held by another process.",
         held_seconds, ""),
        ("lock_foreign_holder", "1 if the lock is held by a process that is no runner of "
         "this job.", 1 if foreign else 0, ""),
        ("lock_stuck", "1 if the lock has been held longer than the job's maximum duration.",
         1 if stuck else 0, ""),
    ])
    warning = write(lock_metrics_path(prom_path), text)
    return [warning] if warning else []


def clear_lock_metrics(prom_path: Path) -> None:
    try:
        os.unlink(lock_metrics_path(prom_path))
    except OSError:
        pass
