"""What repeats across runs, from real rclone runs: a source file root cannot read fails
night after night, and rclone skips every delete each time (issue 12).

The runner runs as root, and root reads anything: the failing runs drop the capabilities
that bypass file permissions (setpriv), so rclone really gets `permission denied`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.history.realruns import (
    REPO,
    _base_env,
    make_tree,
    runner_argv,
    write_config,
)
from tests.history.scenario import run_without_dac as _run_without_dac
from tests.history.scenario import streak_nights
from tests.history.screens_app import HistoryApp
from tui.config import Overrides, load_job
from tui.core.history import dashboard_line, persistent_summary, scan_history
from tui.core.runstate import Outcome


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """One good night, three nights with an unreadable file and a file removed from the
    source, then a dry run. Returns (config, log, source)."""
    return streak_nights(tmp_path_factory.mktemp("persistent"))


def test_history_counts_the_streaks(nights: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _, log, _src = nights
    runs = scan_history(log, cache_dir=tmp_path).runs
    assert [(r.outcome, r.dry_run, r.deletes_skipped) for r in runs] == [
        (Outcome.SUCCESS, False, False), *[(Outcome.FAILED, False, True)] * 3,
        (Outcome.SUCCESS, True, False)]
    p = persistent_summary(runs)
    assert p.deletes_skipped_runs == 3
    assert p.deletes_skipped_since == runs[1].started
    assert p.pending_deletes == 1  # gone.txt, as the dry run saw it
    (f,) = p.files
    assert (f.path, f.runs_in_a_row, f.first_failed, f.last_failed) == (
        "locked.bin", 3, runs[1].started, runs[3].started)
    # Both facts, the failing file first: the dashboard hid it behind the delete debt.
    assert dashboard_line(p) == (
        "locked.bin failed 3 runs in a row; deletes skipped 3 runs in a row: 1 file gone "
        "from the source still mirrored")


@pytest.mark.parametrize(("cut", "shown"), [(("--limit", "1"), 1), (("--outcome", "success"), 2)])
def test_history_json_has_the_persistent_object(nights: tuple[Path, Path, Path],
                                                tmp_path: Path, cut: tuple[str, ...],
                                                shown: int) -> None:
    cfg, _, _ = nights
    out = subprocess.run([sys.executable, "-m", "tui", "--config", str(cfg), "history",
                          "--json", *cut], capture_output=True, text=True, cwd=REPO,
                         env=_base_env({"XDG_CACHE_HOME": str(tmp_path)}), timeout=60)
    data = json.loads(out.stdout)
    assert list(data) == ["runs", "persistent", "warnings"]
    # A limit or a filter cuts the runs shown, not what repeats: the three failed nights
    # are a streak even when only the successes around them are listed.
    assert len(data["runs"]) == shown
    p = data["persistent"]
    assert (p["deletes_skipped_runs"], p["pending_deletes"]) == (3, 1)
    assert [(f["path"], f["runs_in_a_row"]) for f in p["files"]] == [("locked.bin", 3)]
    assert p["files"][0]["first_failed"] == data["persistent"]["deletes_skipped_since"]


async def test_run_detail_shows_the_streaks(nights: tuple[Path, Path, Path]) -> None:
    _, log, _ = nights
    app = HistoryApp(log)
    async with app.run_test(size=(120, 40)) as pilot:
        for key in ("down", "enter"):  # newest first: the dry run, then the last failed run
            await pilot.pause()
            await pilot.press(key)
        await pilot.pause()
        triage = str(app.screen.query_one("#detail-triage").render())
    assert "Deletes skipped 3 runs in a row" in triage
    assert "locked.bin: failed 3 runs in a row" in triage


async def test_dashboard_says_it_in_one_line(nights: tuple[Path, Path, Path], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.app.app_helpers import wait_text
    from tui.app.app import MirrorApp

    cfg, _, _src = nights
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    job = load_job(cfg, "t", Overrides())
    app = MirrorApp(job, ["--config", str(cfg), "--job", "t"], hostname="h")
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_text(pilot, "locked.bin failed 3 runs in a row",
                        "deletes skipped 3 runs in a row: 1 file gone from the source")


def test_metrics_and_status_carry_the_streaks(nights: tuple[Path, Path, Path],
                                              tmp_path: Path) -> None:
    """The runner exports what repeats (issue 13's metrics, read from issue 12's history),
    and `status` names it: three real runs skipped their deletes, one file failed in all."""
    from prometheus_client.parser import text_string_to_metric_families

    cfg, _, _ = nights
    prom = cfg.with_suffix(".prom").read_text()
    values = {s.name: s.value for fam in text_string_to_metric_families(prom)
              for s in fam.samples}
    assert values["space_mirror_deletes_skipped_runs"] == 3
    assert values["space_mirror_persistent_failed_files"] == 1
    out = subprocess.run([sys.executable, "-m", "tui", "--config", str(cfg), "status",
                          "--json"], capture_output=True, text=True, cwd=REPO,
                         env=_base_env({"XDG_CACHE_HOME": str(tmp_path)}), timeout=60)
    data = json.loads(out.stdout)
    assert data["persistent_failed_files"] == 1, data
    assert data["deletes_skipped_runs"] == 3, data
    assert out.returncode in (1, 2)  # the last run failed: not OK, whatever the thresholds


def test_years_of_runs_are_not_compared_pair_by_pair(nights: tuple[Path, Path, Path],
                                                     tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """`persistent_summary` asked `r in real` for every run: a field-by-field comparison of
    each pair, 760k comparisons for 1,235 nights (0.2 s of every `history` and `status`,
    growing with the square of the log's age). Runs are told apart by identity now."""
    from dataclasses import replace

    from tui.core.history import Run

    _, log, _src = nights
    once = scan_history(log, cache_dir=tmp_path).runs
    years = [replace(r, id=f"{r.id}-{i}") for i in range(400) for r in once]  # 2,000 runs
    compared = 0
    plain_eq = Run.__eq__

    def counting_eq(self: Run, other: object) -> bool:
        nonlocal compared
        compared += 1
        return plain_eq(self, other)

    monkeypatch.setattr(Run, "__eq__", counting_eq)
    p = persistent_summary(years)
    assert compared < len(years), compared  # was len(years)² / 2
    # And the answer is the one for the last night's streak (the copies end as `once` does).
    assert p.pending_deletes == 1


def test_a_file_that_failed_only_in_an_attempt_rclone_retried_is_not_failing(
        tmp_path: Path) -> None:
    """rclone retries a sync that had errors (`--retries`), and its ERROR lines from the
    failed attempt stay in the log after the retry went through. A file that really failed
    one night and failed again only in the next night's first attempt was shown as failing
    two runs in a row, after a night that synced it (exit 0)."""
    import time

    from tests.history.scenario import NO_DAC

    src, dst, log = tmp_path / "src", tmp_path / "dst", tmp_path / "space-mirror.log"
    make_tree(src, {"ok.txt": 100, "flaky.bin": 200})
    cfg = write_config(tmp_path, src, str(dst), log)
    cfg.write_text(cfg.read_text().replace(
        'flags = ["--transfers", "4", "--track-renames"]',
        'flags = ["--transfers", "4", "--track-renames", "--retries", "2", '
        '"--retries-sleep", "2s"]'))
    flaky = src / "flaky.bin"
    flaky.chmod(0)
    assert _run_without_dac(cfg) != 0  # the first night: a real failure
    since = log.stat().st_size
    night = subprocess.Popen([*NO_DAC, *runner_argv(cfg)], env=_base_env(None), cwd=REPO,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while b"Attempt 1/2 failed" not in log.read_bytes()[since:]:
            assert night.poll() is None, "the second night ended before its first retry"
            assert time.monotonic() < deadline, "rclone's first attempt did not fail"
            time.sleep(0.05)
        flaky.chmod(0o644)  # readable again before rclone's second attempt
        assert night.wait(timeout=60) == 0
    finally:
        if night.poll() is None:
            night.kill()
    runs = scan_history(log, cache_dir=tmp_path / "cache").runs
    assert [r.outcome for r in runs] == [Outcome.FAILED, Outcome.SUCCESS]
    assert "flaky.bin" in runs[0].failed_files
    # The runner's reason sends the operator to the side that failed: the source's file.
    assert runs[0].reason is not None and "cannot read the source" in runs[0].reason
    assert (dst / "flaky.bin").read_bytes() == flaky.read_bytes()
    assert not runs[1].deletes_skipped and runs[1].failed_files == ()
    assert runs[1].error_classes  # what the retry got past is still told
    p = persistent_summary(runs)
    assert p.files == (), p.files
    assert dashboard_line(p) is None  # was "flaky.bin failed 2 runs in a row; deletes …"
    # The runner's summary, `status`, and the dashboard's reducer say the same.
    summary = json.loads(cfg.with_suffix(".json").read_text())
    assert summary["persistent_failed_files"] == 0 and summary["deletes_skipped_runs"] == 0
    status = json.loads(subprocess.run(
        [sys.executable, "-m", "tui", "--config", str(cfg), "status", "--json"], cwd=REPO,
        env=_base_env(None), capture_output=True, text=True, timeout=60).stdout)
    assert status["persistent_failures"] == [] and status["deletes_skipped_runs"] == 0
    from tui.core.logline import LineParser, decode
    from tui.core.runstate import RunState, apply_all

    parser = LineParser()
    events = [e for raw in log.read_bytes()[since:].splitlines(keepends=True)
              for e in parser.feed(decode(raw))]
    state = apply_all(RunState(), [*events, *parser.flush()])
    assert state.outcome is Outcome.SUCCESS and not state.deletes_skipped_for_io_errors


def test_the_runs_before_the_last_clean_one_never_count_again() -> None:
    """persistent.still_counted, which the `history` memo keeps the runs from: for any
    runs that follow (of the latest job), the summary over the runs kept and them is the
    summary over every run. Random histories of every kind of run, seeded (the same cases
    on every machine)."""
    import random
    from datetime import UTC, datetime, timedelta

    from tui.core.history.persistent import RunFacts, facts_row, still_counted

    outcomes = ["success", "failed", "aborted", "killed"]
    files = ["a", "b", "c"]
    checked = dropped = 0
    for seed in range(300):
        rnd = random.Random(seed)
        start = datetime(2026, 1, 1, 3, tzinfo=UTC)
        runs = []
        for n in range(rnd.randint(1, 14)):
            runs.append(RunFacts([
                rnd.choice(["job", "job", "other"]) if seed % 3 == 0 else "job",
                rnd.random() < 0.15, "verify" if rnd.random() < 0.05 else "sync",
                rnd.choice(outcomes), rnd.choice([0, 0, 1, 1, 3, 7, 9, 10, None]),
                rnd.random() < 0.4, rnd.choice([None, 0, 2]),
                (start + timedelta(days=n)).isoformat(),
                rnd.sample(files, rnd.randint(0, 2)) if rnd.random() < 0.5 else []]))
        for cut in range(1, len(runs)):
            kept, after = runs[:cut], runs[cut:]
            tail = [RunFacts(facts_row(r)) for r in still_counted(kept)]
            assert persistent_summary([*tail, *after]) == persistent_summary(runs), (seed, cut)
            dropped += len(kept) - len(tail)
            checked += 1
    assert checked > 1000 and dropped > 1000  # and many runs were left out
