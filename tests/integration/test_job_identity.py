"""A job's state belongs to its source and destination (issue 10, item 2).

Seen before the fix: `run --source A --dest A2` (50 files), then `run --source B --dest B2`
(10 files): B was refused with exit 78, because A's success had become the baseline of the
ratio guard, and both runs used the production job's lock, summary and metrics.
"""

from __future__ import annotations

import json
from pathlib import Path

from tui.config import Overrides, adhoc_name, load_job
from tui.core.markers import MarkerKind, parse_marker


def _end_marker(log: Path) -> tuple[MarkerKind, dict[str, str]]:
    found = [m for m in (parse_marker(ln) for ln in log.read_text().splitlines()) if m]
    assert found and found[-1].kind is not MarkerKind.START
    return found[-1].kind, found[-1].fields


def test_adhoc_runs_keep_their_own_state(job_config, make_tree, run_cli, tmp_path: Path) -> None:
    job = job_config()
    make_tree(job.source, {f"p{i}.txt": 10 for i in range(20)})
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 0, r.stderr
    production = {p: p.read_bytes() for p in (job.summary, job.metrics, job.log)}

    a_src, b_src = tmp_path / "A", tmp_path / "B"
    make_tree(a_src, {f"a{i}.txt": 10 for i in range(50)})
    make_tree(b_src, {f"b{i}.txt": 10 for i in range(10)})
    runs = {}
    for src, dst in ((a_src, tmp_path / "A2"), (b_src, tmp_path / "B2")):
        r = run_cli("--config", str(job.config), "run", "--source", str(src), "--dest", str(dst))
        assert r.returncode == 0, r.stdout + r.stderr  # B: 10 files is not "20% of A's 50"
        runs[src.name] = load_job(job.config, job.name,
                                  Overrides(source=str(src), destination=str(dst)))
    a, b = runs["A"], runs["B"]

    # Each ad-hoc job has a name derived from its pair, shown in its marker and output.
    assert a.name == adhoc_name(str(a_src), str(tmp_path / "A2")) != b.name
    assert a.name.startswith("adhoc-A-A2-") and a.adhoc_of == job.name
    kind, fields = _end_marker(a.log_file)
    assert kind is MarkerKind.COMPLETE and fields["transfers"] == "50"
    assert a.name in a.log_file.read_text()
    # …and its own files, beside the ones the config names; production's are untouched.
    own = {a.lock_path, a.summary_path, a.metrics_path, a.log_file,
           b.lock_path, b.summary_path, b.metrics_path, b.log_file}
    assert len(own) == 8
    assert not own & {job.lock, job.summary, job.metrics, job.log}
    assert {p: p.read_bytes() for p in production} == production
    # The summary names the pair its counts belong to.
    summary = json.loads(b.summary_path.read_text())
    assert (summary["source"], summary["destination"]) == (str(b_src), str(tmp_path / "B2"))
    assert summary["last_success_source_files"] == 10


def test_a_baseline_for_another_pair_is_never_used(job_config, make_tree, run_cli,
                                                   tmp_path: Path) -> None:
    """A summary recorded for another source (an old contaminated one, or a config whose
    source changed) does not judge this source: no ratio refusal, and the check says why."""
    job = job_config()
    make_tree(job.source, {f"p{i}.txt": 10 for i in range(5)})
    job.summary.write_text(json.dumps({
        "source": str(tmp_path / "elsewhere"), "destination": str(job.dest),
        "last_success_source_files": 500, "last_success_dest_files": 500,
        "interrupted_since_success": 0}))
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 0, r.stdout + r.stderr
    summary = json.loads(job.summary.read_text())
    assert summary["source"] == str(job.source)
    assert summary["last_success_source_files"] == 5
    # The same summary shape for the job's own pair is still a baseline that refuses.
    summary["last_success_source_files"] = 500
    job.summary.write_text(json.dumps(summary))
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 78 and "ratio" in r.stderr
