"""The fleet: every host's jobs, judged from the series Prometheus holds. Pure.

Input: the answers to a fixed set of instant queries, ONE per series name (QUERIES), each a
list of (labels, value, sample time). Output: one Row per (instance, job), whose verdict is
tui/core/health.py's `evaluate` over Facts built from that row's series: the same rules as
`space-mirror status` on the host, with the job's own thresholds (the runner exports them).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from tui.core import health
from tui.core.health import Facts, LastRun, Verdict
from tui.core.progress import eta_text
from tui.core.stats import Stats
from tui.core.text import printable
from tui.core.units import age_text, format_bytes, format_duration, format_rate

# Series name (without the space_mirror_ prefix) → what it means to a row.
SERIES = (
    "last_success_timestamp_seconds", "last_run_success", "last_run_exit_code",
    "last_run_end_timestamp_seconds", "run_in_progress", "run_start_timestamp_seconds",
    "deletes_skipped_runs", "persistent_failed_files", "stalled",
    "run_bytes_done", "run_bytes_total", "run_files_done", "run_files_total",
    "run_speed_bytes_per_second", "run_eta_seconds", "run_last_progress_timestamp_seconds",
    "run_updated_timestamp_seconds", "run_stall_timeout_seconds", "warn_after_seconds",
    "crit_after_seconds", "rclone_info",
)
UP = "up"
# The age of each row's data: when Prometheus last scraped its run_in_progress.
SEEN = "timestamp(space_mirror_run_in_progress)"
QUERIES: tuple[str, ...] = (*(f"space_mirror_{n}" for n in SERIES), UP, SEEN)

# Jobs whose runner exports no thresholds (an older runner) get the job defaults.
DEFAULT_WARN_AFTER = 26 * 3600.0
DEFAULT_CRIT_AFTER = 50 * 3600.0
DEFAULT_STALL_TIMEOUT = 1800.0

# States, most in need first (the sort order and the header's order).
STALLED, FAILED, STALE, UNKNOWN, WARNING, RUNNING, OK = (
    "stalled", "failed", "stale", "unknown", "warning", "running", "ok")
STATES = (STALLED, FAILED, STALE, UNKNOWN, WARNING, RUNNING, OK)
_RANK = {s: i for i, s in enumerate(STATES)}
# Nagios aggregation: CRITICAL outranks WARNING outranks UNKNOWN outranks OK.
_SEVERITY = {health.OK: 0, health.UNKNOWN: 1, health.WARNING: 2, health.CRITICAL: 3}

Result = tuple[Mapping[str, str], float, float]  # labels, value, sample time (unix)


@dataclass(frozen=True)
class Row:
    instance: str
    job: str
    series: Mapping[str, float]
    facts: Facts
    verdict: Verdict
    state: str
    version: str | None = None
    data_age: float | None = None  # seconds since Prometheus last scraped this row

    @property
    def host(self) -> str:
        return host_of(self.instance)

    @property
    def running(self) -> bool:
        return self.facts.running is not None

    @property
    def percent(self) -> float | None:
        done, total = self.series.get("run_bytes_done"), self.series.get("run_bytes_total")
        if not self.running or done is None or not total:
            return None
        return min(100.0, 100.0 * done / total)

    @property
    def eta(self) -> str:
        s = self.series
        if not self.running or "run_eta_seconds" not in s:
            return "—"
        return eta_text(Stats(speed=s.get("run_speed_bytes_per_second", 0.0),
                              eta=s["run_eta_seconds"]))

    @property
    def last_good_age(self) -> float | None:
        return health.success_age(self.facts)

    def command(self) -> str:
        """What opens this job's dashboard on its host."""
        return f"ssh {self.host} space-mirror --job {self.job}"

    def detail(self) -> str:
        """`42% ETA 3m10s`, `no progress for 25 s`, or the verdict's first reason."""
        if self.state == STALLED and self.facts.no_progress_for is not None:
            return f"no progress for {age_text(self.facts.no_progress_for)}"
        if self.running:
            pct = self.percent
            return f"{pct:.0f}% ETA {self.eta}" if pct is not None else "starting"
        return self.verdict.reasons[0] if self.verdict.reasons else ""


@dataclass(frozen=True)
class Fleet:
    rows: list[Row]
    now: float
    down: list[str] = field(default_factory=list)  # instances with up == 0
    scrape_interval: float = 15.0

    @property
    def old_rows(self) -> list[Row]:
        """Rows whose data is older than two scrapes."""
        limit = 2 * self.scrape_interval
        return [r for r in self.rows if r.data_age is not None and r.data_age > limit]

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATES, 0)
        for r in self.rows:
            out[r.state] += 1
        return out

    def exit_code(self) -> int:
        """The worst row's Nagios code (a host that stopped answering is UNKNOWN)."""
        codes = [r.verdict.code for r in self.rows]
        if self.down:
            codes.append(health.UNKNOWN)
        if not codes:
            return health.UNKNOWN
        return max(codes, key=lambda c: _SEVERITY[c])


def host_of(instance: str) -> str:
    """`nas:9100` → `nas`; `[::1]:9100` → `::1`; a label with no port stays as it is."""
    if instance.startswith("["):
        return instance[1:].split("]", 1)[0]
    head, sep, port = instance.rpartition(":")
    return head if sep and port.isdigit() and ":" not in head else instance


def _job_of(labels: Mapping[str, str]) -> str | None:
    # With honor_labels the textfile's job label stays `job`; without, Prometheus keeps it
    # as exported_job and `job` is the scrape job's.
    return labels.get("exported_job") or labels.get("job")


def build_rows(answers: Mapping[str, Sequence[Result]], now: float,
          scrape_interval: float = 15.0) -> Fleet:
    """The fleet from one answer per query in QUERIES (missing answers count as empty)."""
    series: dict[tuple[str, str], dict[str, float]] = {}
    versions: dict[tuple[str, str], str] = {}
    seen: dict[tuple[str, str], float] = {}
    for name in SERIES:
        for labels, value, _ in answers.get(f"space_mirror_{name}", ()):
            job = _job_of(labels)
            if job is None:
                continue
            key = (labels.get("instance", "?"), job)
            series.setdefault(key, {})[name] = value
            if name == "rclone_info" and labels.get("version"):
                versions[key] = labels["version"]
    for labels, value, _ in answers.get(SEEN, ()):
        job = _job_of(labels)
        if job is not None:
            seen[(labels.get("instance", "?"), job)] = value
    rows = [_row(inst, job, s, now, versions.get((inst, job)),
                 None if (inst, job) not in seen else max(0.0, now - seen[(inst, job)]))
            for (inst, job), s in series.items()]
    down = sorted({labels.get("instance", "?") for labels, value, _ in answers.get(UP, ())
                   if value == 0})
    return Fleet(sort_by_need(rows), now, down, scrape_interval)


def facts_of(job: str, s: Mapping[str, float], now: float) -> Facts:
    """A row's series as health.Facts (the one model `status` judges too)."""
    running = s.get("run_in_progress") == 1
    idle = None
    if running and "run_last_progress_timestamp_seconds" in s:
        idle = max(0.0, now - s["run_last_progress_timestamp_seconds"])
    last_run = None
    if "last_run_success" in s:
        code = s.get("last_run_exit_code")
        last_run = LastRun(run_id=None, mode="sync",
                           outcome="success" if s["last_run_success"] == 1 else "failed",
                           exit_code=None if code is None else int(code),
                           ended=s.get("last_run_end_timestamp_seconds"), reason=None,
                           stalled=s.get("stalled") == 1,
                           partials_left=(int(s["last_run_partial_files"])
                                          if "last_run_partial_files" in s else None))
    stall = s.get("run_stall_timeout_seconds", DEFAULT_STALL_TIMEOUT)
    persistent = s.get("persistent_failed_files")
    started = s.get("run_start_timestamp_seconds")
    return Facts(
        job=job, now=now, warn_after=s.get("warn_after_seconds", DEFAULT_WARN_AFTER),
        crit_after=s.get("crit_after_seconds", DEFAULT_CRIT_AFTER), stall_timeout=stall,
        recorded=last_run is not None, last_success=s.get("last_success_timestamp_seconds"),
        last_run=last_run,
        running=(f"run started {age_text(max(0.0, now - started))} ago"
                 if started is not None else "run in progress") if running else None,
        no_progress_for=idle, deletes_skipped_runs=int(s.get("deletes_skipped_runs", 0)),
        persistent_count=None if persistent is None else int(persistent))


def state_of(facts: Facts, verdict: Verdict) -> str:
    """The row's state: the health model's `need` (the overview's own answer, so a job
    reads the same on both screens), then what only a fleet row can be: unknown (nothing
    recorded) or a warning the other states do not cover."""
    needs = health.need(facts)
    if needs != "ok":
        return needs  # stalled, failed, stale, running: the same words as STATES
    if verdict.code == health.UNKNOWN:
        return UNKNOWN
    return OK if verdict.code == health.OK else WARNING


def _row(instance: str, job: str, s: Mapping[str, float], now: float, version: str | None,
         data_age: float | None) -> Row:
    facts = facts_of(job, s, now)
    verdict = health.evaluate(facts)
    return Row(instance, job, dict(s), facts, verdict, state_of(facts, verdict), version,
               data_age)


def sort_by_need(rows: Iterable[Row]) -> list[Row]:
    return sorted(rows, key=lambda r: (_RANK[r.state], -_SEVERITY[r.verdict.code],
                                       r.instance, r.job))


def row_matches(row: Row, text: str) -> bool:
    """The `/` filter: every word in the host, job or state (case-insensitive)."""
    hay = f"{row.instance} {row.job} {row.state}".lower()
    return all(w in hay for w in text.lower().split())


def row_json(r: Row) -> dict[str, object]:
    f = r.facts
    return {
        "instance": r.instance, "host": r.host, "job": r.job, "state": r.state,
        "status": r.verdict.label, "exit_code": r.verdict.code, "reasons": r.verdict.reasons,
        "detail": r.detail(), "running": r.running, "percent": r.percent,
        "bytes_done": r.series.get("run_bytes_done"),
        "bytes_total": r.series.get("run_bytes_total"),
        "files_done": r.series.get("run_files_done"),
        "files_total": r.series.get("run_files_total"),
        "speed_bytes_per_second": r.series.get("run_speed_bytes_per_second"),
        "eta_s": r.series.get("run_eta_seconds") if r.running else None,
        "no_progress_for_s": f.no_progress_for, "last_success": f.last_success,
        "last_success_age_s": r.last_good_age, "persistent_failed_files": f.persistent_files,
        "deletes_skipped_runs": f.deletes_skipped_runs, "rclone_version": r.version,
        "data_age_s": r.data_age, "command": r.command(),
        "series": {f"space_mirror_{k}": v for k, v in sorted(r.series.items())},
    }


def rows_json(fleet: Fleet, source: str) -> dict[str, object]:
    return {
        "prometheus": source, "now": fleet.now, "scrape_interval_s": fleet.scrape_interval,
        "counts": fleet.counts(), "down_hosts": fleet.down,
        "old_data_rows": len(fleet.old_rows), "exit_code": fleet.exit_code(),
        "rows": [row_json(r) for r in fleet.rows],
    }


def header(fleet: Fleet) -> str:
    """`3 stalled · 1 failed · 12 ok` (states with none are left out), and the warnings."""
    counts = fleet.counts()
    parts = [f"{n} {s}" for s, n in counts.items() if n] or ["no jobs"]
    text = " · ".join(parts)
    if fleet.down:
        text += f" · not answering: {', '.join(fleet.down)}"
    old = fleet.old_rows
    if old:
        text += f" · {len(old)} rows' data older than two scrapes"
    return text


# The table's columns. State, Good, Pers and Debt hold their widest value; Host and Job are as
# wide as the longest one shown (up to NAME_MAX), and Detail, the row's reason (`last run
# failed (exit 3: …)`), takes what the terminal has left, never less than DETAIL_MIN.
LABELS = ("Host", "Job", "State", "Detail", "Good", "Pers", "Debt")
FIXED = {"State": 7, "Good": 6, "Pers": 4, "Debt": 4}
NAME_MAX = 24
NAME_MIN = {"Host": 11, "Job": 12}  # what a long name keeps when the terminal is narrow
DETAIL_MIN = 19
# Each column's padding (1 + 1) and the vertical scrollbar's 2 cells, plus one to spare.
CHROME = 2 * len(LABELS) + 3


def column_widths(rows: Sequence[Row], width: int) -> list[tuple[str, int]]:
    """(label, width) of each column for `rows` on a terminal `width` columns wide: at 80
    columns, six-letter host and job names leave Detail 30 cells, not 19."""
    want = {
        "Host": min(NAME_MAX, max([4, *(len(printable(r.host)) for r in rows)])),
        "Job": min(NAME_MAX, max([3, *(len(printable(r.job)) for r in rows)])),
    }
    room = width - CHROME - sum(FIXED.values()) - DETAIL_MIN  # for Host and Job together
    while want["Host"] + want["Job"] > room:  # narrow: the longer name gives way first
        longer = max(want, key=lambda k: want[k] - NAME_MIN[k])
        if want[longer] <= NAME_MIN[longer]:
            break
        want[longer] -= 1
    detail = max(DETAIL_MIN, width - CHROME - sum(FIXED.values()) - want["Host"] - want["Job"])
    sizes = {**FIXED, **want, "Detail": detail}
    return [(label, sizes[label]) for label in LABELS]


def series_lines(row: Row, now: float) -> list[str]:
    """Every series of `row` (`series_line`), the ETA read as the table reads it (`Row.eta`:
    `—` while nothing moves, where rclone reports 0 s)."""
    return [series_line(k, v, now, f"ETA {row.eta}" if k == "run_eta_seconds" else None)
            for k, v in sorted(row.series.items())]


def series_line(name: str, value: float, now: float, meaning: str | None = None) -> str:
    """`space_mirror_NAME = VALUE` with every digit (a timestamp in six significant digits,
    `1.79598e+09`, was ±5,000 s: neither a time nor something to paste in a query), and
    what it means: `meaning`, else what its name says it is (`_in_words`)."""
    value = float(value)  # an int from a test or a caller is a number all the same
    exact = str(int(value)) if math.isfinite(value) and value.is_integer() else repr(value)
    if meaning is None:
        meaning = _in_words(name, value, now)
    return f"space_mirror_{name} = {exact}" + (f"  ({meaning})" if meaning else "")


def _in_words(name: str, value: float, now: float) -> str:
    """A timestamp's age, a duration, a size or a rate, by the series' name; nothing for a
    count, a flag, NaN or a negative number."""
    if not math.isfinite(value) or value < 0:
        return ""
    if name.endswith("_timestamp_seconds"):
        ago = now - value
        return f"{age_text(ago)} ago" if ago >= 0 else f"in {age_text(-ago)}"
    if name.endswith("_bytes_per_second"):
        return format_rate(value)
    if name.endswith("_seconds"):
        return format_duration(value)
    if "_bytes_" in name or name.endswith("_bytes"):
        return format_bytes(value)
    return ""
