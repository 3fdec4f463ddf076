"""Issue 20, row 9: the summary names failing files; a CLI run that creates its folder must
not leave it world-readable (folders 0750, the summary 0640). The Prometheus textfile holds
only numbers and the job's name, and node_exporter's user reads it: it stays 0644.
"""

from __future__ import annotations

import stat
from pathlib import Path

from .conftest import as_nobody


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_row9_nobody_cannot_read_the_summary_of_a_failed_run(sec_job, reachable, run_cli) -> None:
    state = reachable / "state" / "space-mirror"  # neither folder exists yet
    job = sec_job(summary_file=str(state / "t.last-run.json"),
                  metrics_file=str(reachable / "textfiles" / "t.prom"))
    secret_name = "salaries-2026-confidential.xlsx"
    (job.source / secret_name).write_text("x")
    (job.dest / secret_name / "sub").mkdir(parents=True)  # the copy fails: a reason names it
    (job.dest / secret_name / "sub" / "f").write_text("f")
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 1, r.stderr
    summary = state / "t.last-run.json"
    assert secret_name in summary.read_text()  # the reason names the file
    peek = as_nobody("cat", str(summary))
    assert peek.returncode != 0 and secret_name not in peek.stdout, peek.stdout
    assert _mode(summary) & 0o027 == 0, oct(_mode(summary))
    assert _mode(state) & 0o027 == 0 and _mode(state.parent) & 0o027 == 0
    prom = reachable / "textfiles" / "t.prom"
    assert _mode(prom) == 0o644 and secret_name not in prom.read_text()
    assert as_nobody("cat", str(prom)).returncode == 0  # node_exporter's user reads it
