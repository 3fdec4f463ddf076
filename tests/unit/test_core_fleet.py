"""tui/core/fleet.py: Prometheus answers (one per series name) → rows judged by
health.evaluate, sorted by need, with the worst row's Nagios code."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from tui.core import fleet, health

NOW = 1_800_000_000.0


def answers(rows: Mapping[tuple[str, str], Mapping[str, float]],
            up: Mapping[str, float] | None = None) -> dict[str, list[fleet.Result]]:
    out: dict[str, list[fleet.Result]] = {}
    for (instance, job), series in rows.items():
        for name, value in series.items():
            out.setdefault(f"space_mirror_{name}", []).append(
                ({"instance": instance, "job": job}, value, NOW))
        out.setdefault(fleet.SEEN, []).append(({"instance": instance, "job": job}, NOW - 1,
                                               NOW))
    out[fleet.UP] = [({"instance": i, "job": "node"}, v, NOW) for i, v in (up or {}).items()]
    return out


OK_ROW = {"last_success_timestamp_seconds": NOW - 3600, "last_run_success": 1,
          "last_run_exit_code": 0, "run_in_progress": 0}
RUNNING = {**OK_ROW, "run_in_progress": 1, "run_start_timestamp_seconds": NOW - 600,
           "run_bytes_done": 250, "run_bytes_total": 1000, "run_speed_bytes_per_second": 10,
           "run_eta_seconds": 75, "run_last_progress_timestamp_seconds": NOW - 2,
           "run_stall_timeout_seconds": 1800}
STALLED = {**RUNNING, "run_last_progress_timestamp_seconds": NOW - 61}
FAILED = {**OK_ROW, "last_run_success": 0, "last_run_exit_code": 5}
STALE = {**OK_ROW, "last_success_timestamp_seconds": NOW - 30 * 3600}


def test_states_sorted_by_need_with_the_worst_exit_code() -> None:
    f = fleet.build_rows(answers({("b:9100", "ok"): OK_ROW, ("a:9100", "run"): RUNNING,
                             ("c:9100", "stuck"): STALLED, ("a:9100", "bad"): FAILED,
                             ("b:9100", "old"): STALE}), NOW)
    assert [(r.host, r.job, r.state) for r in f.rows] == [
        ("c", "stuck", "stalled"), ("a", "bad", "failed"), ("b", "old", "stale"),
        ("a", "run", "running"), ("b", "ok", "ok")]
    assert f.exit_code() == health.WARNING
    assert fleet.header(f) == "1 stalled · 1 failed · 1 stale · 1 running · 1 ok"
    run = f.rows[3]
    assert run.percent == 25 and run.detail() == "25% ETA 1m15s"
    assert f.rows[0].detail() == "no progress for 61 s"
    assert run.command() == "ssh a space-mirror --job run"


def test_each_verdict_is_health_evaluate_of_the_rows_facts() -> None:
    f = fleet.build_rows(answers({("a", "x"): STALE, ("a", "y"): STALLED}), NOW)
    for row in f.rows:
        assert row.verdict == health.evaluate(row.facts)
    stale = next(r for r in f.rows if r.job == "x")
    assert stale.verdict.reasons == ["last success 30 h ago, over 26 h"]


def test_the_jobs_own_thresholds_are_used() -> None:
    # Exported by the runner: a 2 s crit_after makes a 1 h old success critical.
    f = fleet.build_rows(answers({("a", "x"): {**OK_ROW, "warn_after_seconds": 1,
                                          "crit_after_seconds": 2}}), NOW)
    assert f.rows[0].state == "stale" and f.exit_code() == health.CRITICAL


@pytest.mark.parametrize(("stall_timeout", "idle", "state"), [
    (1800, 9, "running"), (1800, 11, "stalled"),  # 10 s, as the dashboard says (issue 22)
    (5, 4, "running"), (5, 6, "stalled"),  # a stall_timeout shorter than that
    (0, 11, "stalled"),  # watchdog off: still 10 s
])
def test_stall_threshold_is_the_dashboards(stall_timeout: float, idle: float,
                                           state: str) -> None:
    """A fleet row is stalled when the job's own dashboard would say STALLED
    (core/progress.is_stalled, the one threshold); the alert rule pages later (at half the
    stall_timeout, at most a minute: contrib/prometheus), before the watchdog stops the run."""
    row = {**RUNNING, "run_stall_timeout_seconds": stall_timeout,
           "run_last_progress_timestamp_seconds": NOW - idle}
    assert fleet.build_rows(answers({("a", "x"): row}), NOW).rows[0].state == state


def test_down_hosts_and_exported_job_labels() -> None:
    ans = answers({})
    ans["space_mirror_last_run_success"] = [({"instance": "n:9100", "exported_job": "photos",
                                              "job": "node"}, 1, NOW)]
    ans[fleet.UP] = [({"instance": "n:9100", "job": "node"}, 1, NOW),
                     ({"instance": "gone:9100", "job": "node"}, 0, NOW)]
    f = fleet.build_rows(ans, NOW)
    assert [r.job for r in f.rows] == ["photos"]
    assert f.down == ["gone:9100"]
    assert "not answering: gone:9100" in fleet.header(f)
    assert f.exit_code() == health.CRITICAL  # no success recorded outranks the lost host


def test_old_data_and_empty_fleet() -> None:
    ans = answers({("a", "x"): OK_ROW})
    ans[fleet.SEEN] = [({"instance": "a", "job": "x"}, NOW - 45, NOW)]
    f = fleet.build_rows(ans, NOW, scrape_interval=15)
    assert f.rows[0].data_age == 45 and "older than two scrapes" in fleet.header(f)
    assert fleet.build_rows({}, NOW).exit_code() == health.UNKNOWN


@pytest.mark.parametrize(("instance", "host"), [
    ("nas:9100", "nas"), ("[::1]:9100", "::1"), ("alpha", "alpha"), ("10.0.0.2:9100",
                                                                       "10.0.0.2")])
def test_host_of(instance: str, host: str) -> None:
    assert fleet.host_of(instance) == host


def test_filter_words() -> None:
    f = fleet.build_rows(answers({("nas:9100", "photos"): STALE, ("web:9100", "docs"): OK_ROW}),
                    NOW)
    assert [r.job for r in f.rows if fleet.row_matches(r, "NAS stale")] == ["photos"]
    assert [r.job for r in f.rows if fleet.row_matches(r, "docs")] == ["docs"]


def test_status_on_the_host_warns_at_the_fleets_threshold() -> None:
    # `status` judges the host's own facts with the same evaluate: a 40 s stall_timeout
    # warns after 20 s (it said nothing until a minute, after the watchdog had stopped it).
    facts = health.Facts(job="x", now=NOW, warn_after=3600, crit_after=7200,
                         stall_timeout=40, recorded=True, last_success=NOW - 60,
                         running="pid 1", no_progress_for=21)
    verdict = health.evaluate(facts)
    assert verdict.code == health.WARNING
    assert verdict.reasons == ["running, no progress for 21 s"]


def test_a_row_reads_as_the_overview_reads_it() -> None:
    """A job whose last run the watchdog stopped (not running now): the overview says
    `stalled` (health.need); the fleet said `failed` for the same series."""
    row = {**OK_ROW, "last_run_success": 0, "last_run_exit_code": 79, "stalled": 1}
    got = fleet.build_rows(answers({("a", "x"): row}), NOW).rows[0]
    assert got.state == "stalled" == health.need(got.facts)


def _named(host: str, job: str) -> fleet.Row:
    from types import SimpleNamespace

    return SimpleNamespace(host=host, job=job)  # type: ignore[return-value]


def test_column_widths_fit_the_terminal_and_give_detail_the_rest() -> None:
    short = [_named("nas01", "space"), _named("edge05", "photos")]
    for width in (80, 100, 132):
        cols = dict(fleet.column_widths(short, width))
        assert (cols["Host"], cols["Job"]) == (6, 6)
        assert sum(cols.values()) + fleet.CHROME == width  # Detail takes all that is left
    assert dict(fleet.column_widths(short, 60))["Detail"] == fleet.DETAIL_MIN
    # Long names: at 80 columns they keep what they always had (11 and 12), Detail its 19;
    # wider, they grow to NAME_MAX before Detail does.
    long = [_named("backup-host-07.example.org", "photos-and-home-folders")]
    assert fleet.column_widths(long, 80) == [
        ("Host", 11), ("Job", 12), ("State", 7), ("Detail", 19), ("Good", 6), ("Pers", 4),
        ("Debt", 4)]
    wide = dict(fleet.column_widths(long, 200))
    assert (wide["Host"], wide["Job"]) == (fleet.NAME_MAX, 23)
    assert sum(wide.values()) + fleet.CHROME == 200
    # No rows yet (the title says `reading…`): the labels fit.
    empty = dict(fleet.column_widths([], 80))
    assert empty["Host"] >= 4 and empty["Job"] >= 3


def test_a_series_is_shown_with_every_digit_and_what_it_means() -> None:
    now = 1_796_000_000.0
    line = fleet.series_line
    assert line("last_success_timestamp_seconds", now - 5 * 3600 - 17, now) == (
        "space_mirror_last_success_timestamp_seconds = 1795981983  (5 h ago)")
    assert line("run_updated_timestamp_seconds", now + 90, now).endswith("(in 90 s)")
    assert line("crit_after_seconds", 180000, now) == (
        "space_mirror_crit_after_seconds = 180000  (2d02h00m)")
    assert line("run_bytes_done", 3e9, now) == "space_mirror_run_bytes_done = 3000000000  (2.8 GiB)"
    assert line("run_speed_bytes_per_second", 1536.5, now) == (
        "space_mirror_run_speed_bytes_per_second = 1536.5  (1.5 KiB/s)")
    assert line("last_run_exit_code", 7, now) == "space_mirror_last_run_exit_code = 7"
    assert line("run_eta_seconds", float("nan"), now) == "space_mirror_run_eta_seconds = nan"
    assert line("run_eta_seconds", -1, now) == "space_mirror_run_eta_seconds = -1"
