"""`space-mirror verify --rotate N` with the real rclone (issue 24): slice K of N
(`--hash-filter K/N`), K advancing with each verify run and kept in the verify's state.

- over N runs every file of a real tree is checked exactly once (the union of the names
  rclone check listed is the tree, and the slices are disjoint); the next cycle starts over;
- a byte flipped in any file (one per slice here) is found within N runs, named with its
  remedy, and `status` warns;
- a check that could not run (destination gone) does not advance K: the slice is not lost;
- the coverage shows in `status --json` and in the metrics.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import psutil
from sm_testkit import REPO, JobFiles, rclone_children, wait_until

TREE = {f"d{i % 5}/f{i:02}.bin": 2000 + i for i in range(60)}
N = 4


def corrupt(path: Path) -> None:
    """Flip one byte, keep size and mtime: a sync would not notice."""
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x01
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def synced(job_config, make_tree, run_cli) -> JobFiles:  # type: ignore[no-untyped-def]
    job = job_config()
    make_tree(job.source, TREE)
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 0, r.stderr
    return job


def checked(job: JobFiles) -> dict[str, str]:
    """The last verify's files, as rclone check's --combined listed them: path → mark."""
    text = (job.base / f"{job.name}.verify-files.txt").read_text("utf-8")
    return {ln[2:]: ln[0] for ln in text.splitlines() if len(ln) > 2}


def verify(job: JobFiles, run_cli, *more: str):  # type: ignore[no-untyped-def]
    return run_cli("--config", str(job.config), "verify", "--rotate", str(N), *more)


def prom_value(job: JobFiles, name: str) -> float | None:
    text = (job.base / "metrics_verify.prom").read_text()
    m = re.search(rf"^space_mirror_{name}{{[^}}]*}} (\S+)$", text, re.M)
    return None if m is None else float(m[1])


def test_every_file_is_checked_once_per_cycle(job_config, make_tree, run_cli) -> None:
    job = synced(job_config, make_tree, run_cli)
    slices: list[set[str]] = []
    for k in range(N):
        r = verify(job, run_cli)
        assert r.returncode == 0, r.stderr
        assert f"checking slice {k} of {N}" in r.stdout
        got = checked(job)
        assert set(got.values()) == {"="}
        slices.append(set(got))
        status = json.loads(run_cli("--config", str(job.config), "status", "--json").stdout)
        assert status["verify_coverage"]["proven_slices"] == k + 1
    union = set().union(*slices)
    assert union == set(TREE)  # every file of the tree …
    assert sum(len(s) for s in slices) == len(TREE)  # … exactly once
    assert all(slices), "an empty slice proves nothing about the hash split"
    assert f"verified 100% within the last {N} runs" in r.stdout

    status = json.loads(run_cli("--config", str(job.config), "status", "--json").stdout)
    cover = status["verify_coverage"]
    assert cover["coverage_ratio"] == 1.0 and cover["overdue_slices"] == []
    assert cover["oldest_slice_age_s"] is not None
    assert prom_value(job, "verify_coverage_ratio") == 1.0
    assert prom_value(job, "verify_oldest_slice_age_seconds") is not None

    # The next cycle starts over with slice 0: the same files as the first run.
    r = verify(job, run_cli)
    assert r.returncode == 0 and "checking slice 0 of 4 (run 5" in r.stdout
    assert set(checked(job)) == slices[0]


def test_a_flipped_byte_is_found_within_n_runs(job_config, make_tree, run_cli) -> None:
    job = synced(job_config, make_tree, run_cli)
    names = sorted(TREE)
    flipped = {names[3], names[27], names[51]}
    for name in flipped:
        corrupt(job.dest / name)
    assert run_cli("--config", str(job.config), "run").returncode == 0  # the sync is blind
    found: dict[str, int] = {}
    for k in range(N):
        r = verify(job, run_cli)
        marks = checked(job)
        differ = {p for p, m in marks.items() if m == "*"}
        assert differ == flipped & set(marks)  # found in its own slice, nothing else
        for p in differ:
            assert p not in found, "a file was checked twice in one cycle"
            found[p] = k
            assert f"differ: {p}" in r.stdout
        assert r.returncode == (1 if differ else 0), r.stdout + r.stderr
        if differ:
            assert "what to do: differ: the destination's copy differs" in r.stdout
    assert set(found) == flipped

    status = run_cli("--config", str(job.config), "status", "--json")
    data = json.loads(status.stdout)
    cover = data["verify_coverage"]
    assert cover["coverage_ratio"] < 1.0 and cover["differing_slices"]
    assert any("differences in slice" in r for r in data["reasons"])
    assert prom_value(job, "verify_coverage_ratio") == cover["coverage_ratio"]
    assert prom_value(job, "verify_oldest_slice_age_seconds") is None  # a slice is unproven


def test_a_stopped_verify_keeps_its_slice(job_config, make_tree, run_cli, cli_env) -> None:
    """A verify stopped before its check ended proves nothing: the next one checks the same
    slice, and the run count does not move."""
    job = job_config()
    make_tree(job.source, {f"big{i}.bin": 1024 * 1024 for i in range(6)})
    assert run_cli("--config", str(job.config), "run").returncode == 0
    slow = job_config(bwlimit="256k")  # a --download check of a MiB takes seconds
    proc = subprocess.Popen([sys.executable, "-m", "tui", "--config", str(slow.config),
                             "verify", "--rotate", "2", "--download"], env=cli_env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, cwd=str(REPO))
    try:
        def checking() -> bool:
            for k in rclone_children(proc.pid):
                try:
                    if "check" in k.cmdline():
                        return True
                except psutil.Error:
                    pass
            return False

        wait_until(checking, 30, "rclone check")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143, err
    assert "checking slice 0 of 2 (run 1;" in out
    r = run_cli("--config", str(job.config), "verify", "--rotate", "2")
    assert r.returncode == 0, r.stderr
    assert "checking slice 0 of 2 (run 1;" in r.stdout  # not lost, not counted
    r = run_cli("--config", str(job.config), "verify", "--rotate", "2")
    assert "checking slice 1 of 2 (run 2;" in r.stdout


def test_a_skipped_night_is_not_lost(job_config, make_tree, run_cli) -> None:
    """K is the verify's own count, not the date: whatever the gap, the next slice."""
    job = synced(job_config, make_tree, run_cli)
    assert verify(job, run_cli).returncode == 0
    state_file = job.base / f"{job.name}.verify-rotation.json"
    state = json.loads(state_file.read_text())
    assert state["next"] == 1 and state["runs"] == 1
    r = verify(job, run_cli)  # days later, or the next night: the same
    assert "checking slice 1 of 4 (run 2;" in r.stdout


def test_rotate_usage(job_config, run_cli) -> None:
    job = job_config()
    for argv, needle in ((["--rotate", "1"], "--rotate 1 is not a number of slices"),
                         (["--rotate", "7", "--sample", "5"], "give one")):
        r = run_cli("--config", str(job.config), "verify", *argv)
        assert r.returncode == 64
        assert needle in r.stderr and "Traceback" not in r.stderr
