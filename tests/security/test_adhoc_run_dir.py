"""Issue 20, row 7: an ad-hoc job (--source/--dest) made from a job with `run_dir` gets a
run folder of its own, so it shares neither the named job's lock nor its rc socket.

No step of this needs another user: the run folder is root's. The named job's lock is held
by a plain `flock` (what a running sync of it holds).
"""

from __future__ import annotations

import subprocess


def test_row7_adhoc_job_does_not_share_the_named_jobs_run_folder(sec_job, reachable,
                                                                 run_cli) -> None:
    run_dir = reachable / "run" / "t"
    run_dir.mkdir(parents=True, mode=0o700)
    job = sec_job(run_dir=str(run_dir), lock_file=None)
    (job.source / "a").write_text("a")
    other_src, other_dst = reachable / "src2", reachable / "dst2"
    other_src.mkdir()
    (other_src / "b").write_text("b")
    holder = subprocess.Popen(["flock", str(run_dir / "lock"), "sh", "-c",
                               "echo held; exec sleep 60"],
                              stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        named = run_cli("--config", str(job.config), "run")
        assert named.returncode == 75, named.stderr  # the named job is busy: as it should be
        r = run_cli("--config", str(job.config), "--source", str(other_src), "--dest",
                    str(other_dst), "run")
        assert r.returncode == 0, (r.returncode, r.stderr)
        assert (other_dst / "b").read_text() == "b"
        adhoc_dirs = [p.name for p in run_dir.parent.iterdir() if p != run_dir]
        assert len(adhoc_dirs) == 1 and adhoc_dirs[0].startswith("t-adhoc-"), adhoc_dirs
    finally:
        holder.kill()
        holder.wait()
