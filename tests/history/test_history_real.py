"""The history of logs written by real rclone through the legacy wrapper and our runner."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from tests.history.checks import check_run
from tests.history.realruns import (
    REPO,
    Expect,
    make_tree,
    rotate,
    run_runner,
    run_wrapper,
    runner_interrupted,
    write_config,
)
from tui.core.history import scan_history
from tui.core.runstate import Outcome


def test_every_scenario_through_wrapper_and_runner(real_log: tuple[Path, list[Expect]],
                                                    tmp_path: Path) -> None:
    log, expected = real_log
    history = scan_history(log, cache_dir=tmp_path)
    assert len(history.runs) == len(expected) == 14
    assert history.warnings == []
    for i, (run, exp) in enumerate(zip(history.runs, expected, strict=True)):
        legacy = i < 7
        assert run.legacy == legacy
        assert run.id.startswith("legacy-") == legacy
        check_run(run, exp, legacy)
        assert run.started is not None
        if exp["outcome"] != "incomplete":
            assert run.ended is not None and run.duration_s is not None
    # Ids are unique even when legacy runs start in the same second.
    assert len({r.id for r in history.runs}) == len(history.runs)


def test_runner_abort_keeps_its_reason(real_log: tuple[Path, list[Expect]],
                                       tmp_path: Path) -> None:
    log, _ = real_log
    runs = scan_history(log, cache_dir=tmp_path).runs
    aborted = [r for r in runs if r.outcome is Outcome.ABORTED and not r.legacy]
    assert len(aborted) == 1
    assert aborted[0].reason is not None and "SIGTERM" in aborted[0].reason


def test_cli_json_shape(real_log: tuple[Path, list[Expect]], tmp_path: Path) -> None:
    log, expected = real_log
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-m", "tui", "--log", str(log), "--no-require-mount", "history",
         "--json"], capture_output=True, text=True, cwd=REPO, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) == {"runs", "persistent", "warnings"}
    assert len(data["runs"]) == len(expected)
    keys = {"id", "started", "ended", "duration_s", "outcome", "exit_code", "dry_run", "bytes",
            "transfers", "checks", "deletes", "renames", "errors", "error_classes",
            "failed_files", "mode", "verify", "attempts"}
    for run, exp in zip(data["runs"], expected, strict=True):
        assert set(run) == keys
        assert run["outcome"] == exp["outcome"]
        assert run["exit_code"] == exp["exit_code"]
        for c in run["error_classes"]:
            assert set(c) == {"class", "count", "example"}
    incomplete = data["runs"][-1]
    assert incomplete["ended"] is None and incomplete["exit_code"] is None
    limited = subprocess.run(
        [sys.executable, "-m", "tui", "--log", str(log), "history", "--json", "--limit", "2"],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=60)
    assert [r["id"] for r in json.loads(limited.stdout)["runs"]] == \
        [r["id"] for r in data["runs"][-2:]]


def test_cli_table(real_log: tuple[Path, list[Expect]], tmp_path: Path) -> None:
    log, _ = real_log
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "tui", "--log", str(log), "history"],
                         capture_output=True, text=True, cwd=REPO, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split()[:3] == ["STARTED", "OUTCOME", "EXIT"]
    body = [ln for ln in lines[1:] if ln and not ln.startswith(("newest", " "))]
    assert len(body) == 14
    assert "incomplete" in body[0]  # newest first
    assert "deletes skipped" in out.stdout


def test_rotated_into_dot1_and_gz(tmp_path: Path) -> None:
    """Runs spread over log.2.gz, log.1 and log, read oldest first."""
    log = tmp_path / "space-mirror.log"
    src, dst = tmp_path / "src", tmp_path / "dst"
    make_tree(src, {"x/a.txt": 100})
    assert run_wrapper(src, str(dst), log) == 0
    rotate(log)
    make_tree(src, {"x/b.txt": 200})
    assert run_wrapper(src, str(dst), log) == 0
    rotate(log)
    make_tree(src, {"x/c.txt": 300})
    cfg = write_config(tmp_path, src, str(dst), log)
    assert run_runner(cfg) == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(log.name)) == \
        ["space-mirror.log", "space-mirror.log.1", "space-mirror.log.2.gz"]
    history = scan_history(log, cache_dir=tmp_path / "cache")
    assert [r.transfers for r in history.runs] == [1, 1, 1]
    assert [r.legacy for r in history.runs] == [True, True, False]
    assert [r.spans[0].path for r in history.runs] == [
        str(log) + ".2.gz", str(log) + ".1", str(log)]
    assert all(r.outcome is Outcome.SUCCESS for r in history.runs)
    # A gap in the rotation is a warning, not an error.
    (tmp_path / "space-mirror.log.1").rename(tmp_path / "space-mirror.log.3")
    gap = scan_history(log, cache_dir=tmp_path / "cache")
    assert len(gap.runs) == 3
    assert any("missing rotated file" in str(w) and w.file.endswith(".log.1")
               for w in gap.warnings)


def test_killed_runner_is_running_while_its_lock_is_held(tmp_path: Path) -> None:
    """The open run at the end is `running` only when the injected check says so."""
    log = tmp_path / "log"
    slow = tmp_path / "slow"
    make_tree(slow, {"big/blob.bin": 2_000_000})
    cfg = write_config(tmp_path, slow, str(tmp_path / "d"), log, name="slow")
    assert runner_interrupted(cfg, log, signal.SIGKILL) == -9
    runs = scan_history(log, use_cache=False).runs
    assert runs[-1].outcome is Outcome.INCOMPLETE
    run_id = runs[-1].id
    live = scan_history(log, use_cache=False, is_running=lambda rid: rid == run_id).runs
    assert live[-1].outcome is Outcome.RUNNING
    other = scan_history(log, use_cache=False, is_running=lambda rid: rid == "other").runs
    assert other[-1].outcome is Outcome.INCOMPLETE


def test_rclone_killed_reads_the_same_in_the_summary_and_the_history(tmp_path: Path) -> None:
    """rclone SIGKILLed under our runner (the OOM killer): the runner's summary, hooks and
    notifications say the outcome the end marker says to the dashboard and `history`."""
    from tests.history.realruns import rclone_killed

    log = tmp_path / "log"
    slow = tmp_path / "slow"
    make_tree(slow, {"big/blob.bin": 2_000_000})
    cfg = write_config(tmp_path, slow, str(tmp_path / "d"), log, name="slow")
    assert rclone_killed(cfg, log) == 137
    (run,) = scan_history(log, use_cache=False).runs
    summary = json.loads((tmp_path / "slow.json").read_text())
    assert run.outcome is Outcome.KILLED and run.exit_code == 137
    assert (summary["outcome"], summary["exit_code"]) == ("killed", 137)


def test_copy_of_fixture_matches_recorded_expectations(mixed_log: Path, tmp_path: Path) -> None:
    expected = [Expect(e) for e in json.loads(
        (mixed_log.parent / "mixed.expected.json").read_text())]
    log = tmp_path / "space-mirror.log"
    shutil.copyfile(mixed_log, log)
    runs = scan_history(log, use_cache=False).runs
    assert len(runs) == len(expected)
    for i, (run, exp) in enumerate(zip(runs, expected, strict=True)):
        check_run(run, exp, legacy=i < 7)


def test_sighup_kills_rclone_outcome_killed(tmp_path: Path) -> None:
    """SIGHUP has no handler in rclone: it dies, bash sees 129, the wrapper logs FAILED 129."""
    from tests.history.realruns import slow_tree, wrapper_interrupted

    log = tmp_path / "log"
    slow = tmp_path / "slow"
    slow_tree(slow)
    assert wrapper_interrupted(slow, str(tmp_path / "d"), log, signal.SIGHUP) == 129
    (run,) = scan_history(log, use_cache=False).runs
    assert run.outcome is Outcome.KILLED
    assert run.exit_code == 129
    assert run.bytes is None  # no final stats: rclone died before printing them


def test_run_cut_by_rotation_is_joined(mixed_log: Path, tmp_path: Path) -> None:
    """logrotate moved the file while a run was writing: its start is in .1, its end here."""
    data = mixed_log.read_bytes()
    # Cut inside the runner's IO-error run (the 11th), between two of its lines.
    starts = [i for i in range(len(data)) if data.startswith(b"[", i)
              and (i == 0 or data[i - 1] == 10) and b"Starting Space Mirror" in data[i:i + 80]]
    run_start, next_start = starts[10], starts[11]
    cut = data.index(b"\n", run_start + (next_start - run_start) // 2) + 1
    log = tmp_path / "space-mirror.log"
    (tmp_path / "space-mirror.log.1").write_bytes(data[:cut])
    log.write_bytes(data[cut:])
    whole = tmp_path / "whole.log"
    whole.write_bytes(data)
    joined = scan_history(log, cache_dir=tmp_path / "cache")
    reference = scan_history(whole, use_cache=False)
    assert [r.as_json() for r in joined.runs] == [r.as_json() for r in reference.runs]
    cut_run = joined.runs[10]
    assert [Path(s.path).name for s in cut_run.spans] == ["space-mirror.log.1", "space-mirror.log"]
    assert cut_run.exit_code == 1 and cut_run.failed_files == ("c/new.txt",)


def test_dateext_rotation_order(mixed_log: Path, tmp_path: Path) -> None:
    """logrotate's dateext names: FILE-YYYYMMDD.gz, oldest first, then FILE."""
    import gzip

    data = mixed_log.read_bytes()
    third = data.index(b"[", len(data) // 3)
    third = data.rfind(b"\n[", 0, third) + 1
    half = data.rfind(b"\n[", 0, 2 * len(data) // 3) + 1
    log = tmp_path / "space-mirror.log"
    (tmp_path / "space-mirror.log-20261123.gz").write_bytes(gzip.compress(data[:third]))
    (tmp_path / "space-mirror.log-20261124").write_bytes(data[third:half])
    log.write_bytes(data[half:])
    history = scan_history(log, cache_dir=tmp_path / "cache")
    reference = scan_history(mixed_log, use_cache=False)
    assert [r.id for r in history.runs] == [r.id for r in reference.runs]
    assert [r.outcome for r in history.runs] == [r.outcome for r in reference.runs]


def test_cli_reports_running_from_the_lock(tmp_path: Path) -> None:
    """An open run whose id is in the held lock is `running`, through the real CLI."""
    from tui.ops import lock

    log = tmp_path / "log"
    slow = tmp_path / "slow"
    make_tree(slow, {"big/blob.bin": 2_000_000})
    cfg = write_config(tmp_path, slow, str(tmp_path / "d"), log, name="slow")
    assert runner_interrupted(cfg, log, signal.SIGKILL) == -9
    open_id = scan_history(log, use_cache=False).runs[-1].id
    record = lock.LockRecord(pid=1, run_id=open_id, job="slow", mode="sync", log=str(log),
                             started="2026-11-25T00:00:00+00:00")
    held = lock.try_acquire(tmp_path / "slow.lock", record)
    assert isinstance(held, lock.HeldLock)
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    argv = [sys.executable, "-m", "tui", "--config", str(cfg), "history", "--json"]
    try:
        out = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, env=env, timeout=60)
        assert json.loads(out.stdout)["runs"][-1]["outcome"] == "running"
    finally:
        held.release()
    out = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, env=env, timeout=60)
    assert json.loads(out.stdout)["runs"][-1]["outcome"] == "incomplete"
