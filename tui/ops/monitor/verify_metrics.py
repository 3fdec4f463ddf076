"""`space_mirror_last_verify_*`: the last verify's result for node_exporter's textfile
collector, in a file of its own beside the run metrics (the runner replaces its file whole
after every sync, which would drop these series)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tui.config import Job
from tui.core.rotation import Coverage
from tui.ops.monitor import prom


@dataclass(frozen=True)
class VerifyFacts:
    job: str
    started: float  # unix seconds
    ended: float
    exit_code: int
    success: bool  # rclone check exited 0 and found no difference
    sampled: int
    differences: int
    missing: int
    differ: int
    errors: int
    coverage: Coverage | None = None  # a rotating verify's (verify --rotate N)


_METRICS = (
    ("timestamp_seconds", "End of the last verify, unix time.", "ended"),
    ("duration_seconds", "Duration of the last verify.", "duration"),
    ("success", "1 if the last verify found the sample intact, else 0.", "success"),
    ("exit_code", "Exit code of the last verify.", "exit_code"),
    ("sampled_files", "Files the last verify checked (its random sample).", "sampled"),
    ("differences", "Differences the last verify found (missing + differ + errors).",
     "differences"),
    ("missing_files", "Sampled files missing on the destination.", "missing"),
    ("differ_files", "Sampled files whose content differs at the destination.", "differ"),
    ("error_files", "Sampled files that could not be read or hashed.", "errors"),
)


def verify_metrics_path(job: Job) -> Path:
    """Beside the job's run metrics: `space_mirror_NAME.prom` → `space_mirror_NAME_verify.prom`."""
    prom = job.metrics_path
    return prom.with_name(f"{prom.stem}_verify{prom.suffix or '.prom'}")


def verify_text(f: VerifyFacts) -> str:
    values = {"ended": f.ended, "duration": max(0.0, f.ended - f.started),
              "success": int(f.success), "exit_code": f.exit_code, "sampled": f.sampled,
              "differences": f.differences, "missing": f.missing, "differ": f.differ,
              "errors": f.errors}
    samples: list[prom.Sample] = [(f"last_verify_{name}", help_text, values[key], "")
                                  for name, help_text, key in _METRICS]
    c = f.coverage
    if c is not None:
        samples += [
            ("verify_coverage_ratio", "Share of the tree (slices of verify --rotate N) "
             "proven intact within the last N verify runs.", c.ratio, ""),
            ("verify_oldest_slice_age_seconds", "Seconds since the least recently proven "
             "slice was proven (absent while a slice never was).", c.oldest_age, ""),
            ("verify_overdue_slices", "Slices not proven within the last N verify runs.",
             len(c.overdue) if c.complete_cycle else None, ""),
        ]
    return prom.render(f.job, samples)
