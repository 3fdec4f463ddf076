"""The dashboard's top: who and what (identity), the state word, vitals, progress, counters.

Widgets here only show a `Situation`; deciding what it is happens in the app. Every piece
of text is built with Content.assemble from plain strings, so a path or file name with
square brackets is shown as it is, never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from tui.config import Job
from tui.core.progress import (
    ProgressWatch,
    done_percent,
    eta_text,
    idle_for,
    is_stalled,
    observe,
    stall_text,
    stopped_short,
    stops_in,
)
from tui.core.runstate import Outcome, Phase, RunState
from tui.core.text import printable
from tui.core.typical import usual_eta_text as usual_eta
from tui.core.units import age_text, format_bytes, format_duration, format_rate

# The process probe and the history read run after the first frame; why a run stopped
# (the outcome, its remedies and triage classes) is worked out once one has.
if TYPE_CHECKING:
    from tui.core.history.model import Run
    from tui.core.outcome import Counted
    from tui.ops.processes import RunningSync, Vitals

WHO = {
    "dashboard": "the dashboard",
    "cli": "the CLI",
    "timer": "the timer",
    "legacy": "the legacy wrapper",
    "legacy wrapper": "the legacy wrapper",
}


@dataclass(frozen=True)
class Situation:
    """Everything the top of the dashboard shows, in one value."""

    state: RunState
    started_by: str | None = None
    running: RunningSync | None = None
    vitals: Vitals | None = None
    aborting: bool = False
    pending: str | None = None  # "pre-flight checks" | "starting"
    interrupted: bool = False  # a start marker without end, and nothing running
    now: datetime | None = None
    caught_up: bool = True
    no_progress_for: float | None = None  # seconds; set by StatusPanel from its ProgressWatch
    # Before rclone knows its totals: "usually 14 min (median of the last 10 similar runs)",
    # from the history (set by StatusPanel, core's typical.eta_text).
    usual: str | None = None
    bwlimit: str | None = None  # the running sync's bandwidth limit (rclone's rc), if known
    stall_timeout: float = 0.0  # the job's watchdog (0: none): the `stops in 12m` countdown
    # The last real sync's outcome (the health model's), shown beside a dry run's.
    last_real: str | None = None
    # The log's file system is full: rclone's lines, and so its progress, are lost here.
    log_full: bool = False

    @property
    def live(self) -> bool:
        return (self.state.phase is Phase.RUNNING and not self.interrupted) \
            or self.running is not None

    @property
    def stalled(self) -> bool:
        """A live run with no progress for long enough (core/progress's one threshold).
        Not while the log's disk is full: no line reaches it, progress or not (the runner's
        watchdog asks rclone itself)."""
        return (self.live and not self.log_full
                and is_stalled(self.no_progress_for, self.stall_timeout))

    @property
    def elapsed(self) -> float:
        """A live run's wall time since its start marker (it keeps counting while rclone's
        own elapsedTime stands still with a stopped rclone); rclone's once it ended."""
        st = self.state
        if self.live and st.started is not None and self.now is not None:
            try:
                return max(st.elapsed, (self.now - st.started).total_seconds())
            except TypeError:  # naive vs aware (a legacy marker without a zone)
                pass
        return st.elapsed


def state_word(s: Situation) -> tuple[str, str]:
    """(word, style) — the word alone carries the meaning; the style only helps."""
    st = s.state
    if not s.caught_up:
        return "READING LOG", "$text-muted"
    if s.aborting and (st.running or s.running is not None):
        return "ABORTING", "$text-warning bold reverse"
    if s.stalled:
        return ("DRY RUN STALLED" if st.dry_run else "STALLED"), "$text-error bold reverse"
    if st.phase is Phase.RUNNING and not s.interrupted:
        return ("DRY RUN" if st.dry_run else "RUNNING"), "$text-success bold reverse"
    if s.running is not None:
        return ("DRY RUN" if s.running.mode == "dry-run" else "RUNNING"), \
            "$text-success bold reverse"
    if s.pending:
        return s.pending.upper(), "$text-accent bold"
    if st.phase is Phase.RUNNING and s.interrupted:
        return "LAST RUN INTERRUPTED", "$text-error bold reverse"
    if st.phase is Phase.ENDED:
        dry = " (dry run)" if st.dry_run else ""
        if st.dry_run and s.last_real is not None:
            # A dry run never hides the last real sync's outcome.
            word, style = dry_word(st.outcome)
            real = s.last_real.upper()
            return (f"{word} · LAST SYNC {real}",
                    style if s.last_real == "succeeded" else "$text-error bold reverse")
        words = {
            Outcome.SUCCESS: (f"IDLE · LAST RUN SUCCEEDED{dry}", "$text-success bold"),
            Outcome.FAILED: (f"IDLE · LAST RUN FAILED{dry}", "$text-error bold reverse"),
            Outcome.ABORTED: (f"IDLE · LAST RUN ABORTED{dry}", "$text-warning bold reverse"),
            Outcome.KILLED: (f"IDLE · LAST RUN KILLED{dry}", "$text-error bold reverse"),
        }
        return words.get(st.outcome or Outcome.FAILED, ("IDLE", "bold"))
    return "IDLE · NO RUN IN THE LOG", "bold"


def dry_word(outcome: Outcome | None) -> tuple[str, str]:
    """`IDLE · DRY RUN SUCCEEDED`: the ended dry run's own word and style."""
    return {
        Outcome.SUCCESS: ("IDLE · DRY RUN SUCCEEDED", "$text-success bold"),
        Outcome.FAILED: ("IDLE · DRY RUN FAILED", "$text-error bold reverse"),
        Outcome.ABORTED: ("IDLE · DRY RUN ABORTED", "$text-warning bold reverse"),
        Outcome.KILLED: ("IDLE · DRY RUN KILLED", "$text-error bold reverse"),
    }.get(outcome or Outcome.FAILED, ("IDLE · DRY RUN", "bold"))


def who_started(s: Situation) -> str | None:
    by = s.started_by
    if by is None and s.running is not None:
        by = s.running.started_by
    if by is None and s.state.legacy and s.state.phase is not Phase.IDLE:
        by = "legacy"
    if by is None:
        return None
    return WHO.get(by, by)


def _ago(then: datetime | None, now: datetime | None) -> str:
    if then is None or now is None:
        return ""
    try:
        delta = (now - then).total_seconds()
    except TypeError:  # naive vs aware (a legacy marker without a zone)
        return ""
    return f"{format_duration(delta)} ago" if delta >= 0 else ""


def state_line(s: Situation, compact: bool = False) -> Content:
    word, style = state_word(s)
    parts: list[str | tuple[str, str]] = [(f" {word} ", style)]
    st = s.state
    live = (st.phase is Phase.RUNNING and not s.interrupted) or s.running is not None
    if compact and live:
        parts.append((" a=abort", "$text-muted"))
    who = who_started(s)
    if live:
        idle = s.no_progress_for
        if s.log_full:
            parts.append((" log disk full: rclone's lines are lost, its progress is not "
                          "shown; the sync goes on ", "$text-warning bold"))
        if s.stalled and idle is not None:
            left = stops_in(idle, s.stall_timeout)
            stop = "" if left is None else f" · stops in {format_duration(left)}"
            parts.append((f" {stall_text(idle)}{stop} ", "$text-warning bold"))
        if who:
            parts.append(f" by {who}")
        v = s.vitals
        if v is not None:
            parts.append(f" · rclone pid {v.pid} · CPU {v.cpu_percent:.0f}% · RSS "
                         f"{format_bytes(v.rss)}")
            if not compact:
                parts.append(f" · R {format_rate(v.read_bps)} · W {format_rate(v.write_bps)}")
        elif s.running is not None and s.running.rclone_pid is None and not compact:
            parts.append(" · rclone not started yet")
    elif st.phase is Phase.ENDED:
        if st.exit_code is not None:
            parts.append(f" exit {st.exit_code}")
        ago = _ago(st.ended, s.now)
        if ago:
            parts.append(f" · ended {ago}")
        if who and not compact:
            parts.append(f" · by {who}")
    return Content.assemble(*parts)


def identity_line(job: str, source: str, destination: str, host: str,
                  last_good: tuple[str, str] | None = None) -> Content:
    # The last good mirror's age before the paths: at 80 columns the paths give way.
    good: list[str | tuple[str, str]] = [last_good, " · "] if last_good else []
    return Content.assemble(("space-mirror", "bold"), " · ", (job, "bold"), " · ", *good,
                            ("@" + host, "$text-muted"), " · ", source, " → ", destination)


def real_word(outcome: str) -> str:
    """The summary's outcome as the state line says it: `succeeded`, `aborted`, …"""
    return {"success": "succeeded"}.get(outcome, outcome)


def last_good_line(last: datetime | None, now: datetime | None,
                   warn_after: float) -> tuple[str, str] | None:
    """`last good mirror 27 h ago`, coloured once older than warn_after."""
    if last is None or now is None:
        return None
    try:
        age = max(0.0, (now - last).total_seconds())
    except TypeError:
        return None
    style = "$text-error bold" if age > warn_after else "$text-muted"
    return f"last good mirror {age_text(age)} ago", style


def progress_line(s: Situation) -> Content:
    st = s.state
    stats = st.stats
    parts: list[str | tuple[str, str]] = []
    if stats is not None and stopped_short(st):
        # Not "65%": the bytes of a file cut off are not kept; the bar shows the files done.
        parts.append(f"sent {format_bytes(stats.bytes)} of {format_bytes(stats.total_bytes)}"
                     f" · elapsed {format_duration(s.elapsed)}")
    elif stats is not None:
        parts.append(f"{format_bytes(stats.bytes)} / {format_bytes(stats.total_bytes)}")
        pct = stats.percent
        parts.append(f" · {pct:.0f}%" if pct is not None else " · -%")
        # A stalled run moves nothing: no speed (rclone's last one is stale) and no ETA.
        # Elapsed and ETA before the rate: at 80 columns the rate gives way, they never do.
        speed = "—" if s.stalled else format_rate(stats.speed)
        rate = speed + (f" (limit {s.bwlimit})" if s.bwlimit else "")
        parts.append(f" · elapsed {format_duration(s.elapsed)}")
        if st.phase is Phase.RUNNING:
            eta = "—" if s.stalled else (s.usual or eta_text(stats))
            parts.append(f" · ETA {eta} · {rate}")
    elif st.phase is Phase.RUNNING:
        parts.append("waiting for rclone's first statistics …"
                     + (f" ETA {s.usual}" if s.usual else ""))
    elif st.phase is Phase.ENDED:
        parts.append(f"elapsed {format_duration(st.elapsed)}")
    else:
        parts.append("no run yet: press s to start a sync, d for a dry run")
    return Content.assemble(*parts)


def counters_line(st: RunState) -> Content:
    stats = st.stats
    total_files = stats.total_transfers if stats else 0
    checks = f"{st.checks}/{stats.total_checks}" if stats else "0"
    # "–" when this rclone prints no listed count (1.60): not a listing stuck at 0.
    listed = (str(stats.listed) if stats.listed_known else "–") if stats else "0"
    err_style = "$text-error bold" if st.errors else ""
    return Content.assemble(
        ("files ", "$text-muted"), f"{st.transfers}/{total_files}",
        ("  checks ", "$text-muted"), checks,
        ("  deletes ", "$text-muted"), str(st.deletes),
        ("  renames ", "$text-muted"), str(st.renames),
        ("  errors ", "$text-muted"), (str(st.errors), err_style),
        ("  listed ", "$text-muted"), listed,
    )


def outcome_line(st: RunState, history: Counted | None = None, job: Job | None = None,
                 width: int | None = None) -> Content | None:
    """Why the last run ended the way it did (nothing for a success): the main class, its
    count and example, then the remedy (core's outcome_text). `history`: the newest
    finished run's errors as the history counted them, used when it is this run."""
    if not stopped_short(st):
        if st.deletes_skipped_for_io_errors:
            return Content.assemble(("deletes skipped: ", "$text-warning bold"),
                                    "rclone saw I/O errors, so nothing was deleted")
        return None
    from tui.core.outcome import count_for, outcome_text

    count = count_for(history, st.run_id, st.legacy)
    reason, advice = outcome_text(st.reason, st.exit_code, count, job, width)
    parts: list[str | tuple[str, str]] = [("reason: ", "$text-error bold"), printable(reason)]
    if advice:
        parts += [("  → ", "$text-muted"), advice]
    parts += [("  [l]", "bold"), (" details", "$text-muted")]
    return Content.assemble(*parts)


class BytesBar(Widget):
    """A plain progress bar: filled and empty cells differ in shape, not only colour."""

    DEFAULT_CSS = """
    BytesBar { height: 1; width: 1fr; }
    """
    percent: reactive[float | None] = reactive(None)
    # After a run that stopped short the bar is the files it finished (progress.done_percent),
    # said in its label and drawn in the warning colour: a green "100%" under "LAST RUN
    # FAILED" would read as a complete mirror.
    of_files: reactive[bool] = reactive(False)

    def render(self) -> Content:
        pct = self.percent
        label = ("  -% " if pct is None else f"{pct:4.0f}%") + (" of files" if self.of_files
                                                                else "")
        width = max(0, self.size.width - len(label) - 1)
        filled = 0 if pct is None else round(width * min(100.0, max(0.0, pct)) / 100)
        return Content.assemble(("█" * filled, "$text-warning" if self.of_files
                                 else "$text-success"),
                                ("░" * (width - filled), "$foreground-muted"), " ", label)


class StatusPanel(Vertical):
    """Identity, state, bar, progress, counters and (after a failure) the reason."""

    last_success: datetime | None  # the header's "last good mirror …"
    stalled: bool = False  # the state line says STALLED (core/progress.is_stalled)

    DEFAULT_CSS = """
    StatusPanel { height: auto; }
    StatusPanel > Static { height: 1; width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    StatusPanel > #outcome { height: auto; text-wrap: wrap; }
    StatusPanel > #repeated { height: auto; max-height: 2; text-wrap: wrap; display: none; }
    """

    _history_key: tuple[str | None, Phase] | None  # the (run, phase) the history was read at
    _counted: Counted | None  # the history's newest finished run, counted once per cause
    _state: RunState | None  # the last state shown
    _runs: Sequence[Run]  # the history's runs, read by the worker
    _last_real: str | None  # the last real sync's outcome (the health model's)

    class Repeated(Message):
        """What has gone wrong run after run (core's dashboard_line), read from the history."""

        def __init__(self, line: str | None, last: Counted | None = None,
                     runs: Sequence[Run] = (), last_real: str | None = None,
                     last_success: datetime | None = None) -> None:
            super().__init__()
            self.line = line
            self.last_real = last_real  # the last real sync's outcome (the health model's)
            self.last = last  # the newest finished run's errors, counted once per cause
            self.runs = runs  # every run, for the usual duration (the ETA before rclone's)
            self.last_success = last_success  # the log's last real success

    def compose(self) -> ComposeResult:
        yield Static(id="identity")
        yield Static(id="state")
        yield BytesBar(id="bar")
        yield Static(id="progress")
        yield Static(id="counters")
        yield Static(id="outcome")
        yield Static(id="repeated")

    def _history_changed(self, st: RunState) -> None:
        """Read the history once painted, and again whenever a run ends."""
        key = (st.run_id, st.phase)
        if key == self._history_key or (self._history_key is not None
                                         and st.phase is not Phase.ENDED):
            return
        self._history_key = key
        self.call_after_refresh(self._read_history)

    def _read_history(self) -> None:
        job = getattr(self.screen, "job", None) or getattr(self.app, "job", None)
        if job is not None:
            self._repeated(job)

    @work(thread=True, exclusive=True, group="repeated", exit_on_error=False)
    def _repeated(self, job: Job) -> None:
        # Imported here: the history is read after the first frame, not before it.
        from tui.core.history import dashboard_line, last_success, persistent_summary
        from tui.core.outcome import counted
        from tui.ops.health import last_real_of_job
        from tui.ops.history import load_history

        history = load_history(job)
        line = dashboard_line(persistent_summary(history.runs))
        ended = [r for r in history.runs if r.ended is not None]
        real = last_real_of_job(job)
        self.post_message(self.Repeated(line, counted(ended[-1]) if ended else None,
                                        tuple(history.runs),
                                        None if real is None else real_word(real.outcome),
                                        last_success(history.runs)))

    def on_status_panel_repeated(self, message: Repeated) -> None:
        message.stop()
        self._counted = message.last
        if message.last_real != self._last_real:
            self._last_real = message.last_real
            refresh = getattr(self.screen, "refresh_status", None)
            if callable(refresh):  # the state line says it now, not at the next probe
                refresh()
        self._runs = message.runs
        logged = message.last_success
        if self.last_success is None and logged is not None:
            # No summary says it (a job the old wrapper ran): the log's last success does.
            self.last_success = logged
            self._show_last_good(self._now)
        if self._state is not None:
            self._show_outcome(self._state)
        static = self.query_one("#repeated", Static)
        static.display = message.line is not None
        if message.line is not None:
            # The key first: at 80 columns the line's end may be cut, never how to see more.
            static.update(Content.assemble(("⚠ ", "$text-warning bold"), ("l", "bold"),
                                           (" for details · ", "$text-muted"),
                                           printable(message.line)))

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._history_key = None
        self._watch = ProgressWatch()
        self._identity: tuple[str, str, str, str] | None = None
        self._last_good: tuple[str, str] | None = None
        self._seen_running: str | None = None  # the run id last seen running
        self._counted = None
        self._state = None
        self._runs = ()
        self._last_real = None
        # When the last real sync succeeded (the app reads the job's summary), and the
        # job's warn_after: the header's "last good mirror 27 h ago".
        self.last_success: datetime | None = None
        self.warn_after = 26 * 3600.0
        self._now: datetime | None = None  # the clock at the last show()

    def show_identity(self, job: str, source: str, destination: str, host: str) -> None:
        self._identity = (job, source, destination, host)
        self.query_one("#identity", Static).update(
            identity_line(job, source, destination, host, self._last_good))

    def _show_last_good(self, now: datetime | None) -> None:
        text = last_good_line(self.last_success, now, self.warn_after)
        if text != self._last_good and self._identity is not None:
            self._last_good = text
            self.show_identity(*self._identity)

    def show(self, s: Situation, compact: bool = False) -> None:
        st = s.state
        if (self._seen_running == st.run_id and st.phase is Phase.ENDED and not st.dry_run
                and st.outcome is Outcome.SUCCESS and st.ended is not None):
            self.last_success = st.ended  # watched it succeed: no need to wait for a file
        self._seen_running = st.run_id if st.phase is Phase.RUNNING else None
        self._now = s.now
        self._show_last_good(s.now)
        s = replace(s, last_real=self._last_real)
        live = (s.state.running and not s.interrupted) or s.running is not None
        if s.now is not None and live and s.caught_up:
            self._watch = observe(self._watch, s.state, s.now.timestamp())
            s = replace(s, no_progress_for=idle_for(self._watch, s.now.timestamp()))
        else:
            self._watch = ProgressWatch()
        # The in-flight list beside shows the same verdict (a stalled file has no speed).
        self.stalled = s.stalled
        if s.state.running and self._runs:
            stats = s.state.stats
            known = stats is not None and eta_text(stats) != "—"
            s = replace(s, usual=usual_eta(self._runs, s.state.dry_run,
                                           stats.eta if known and stats else None,
                                           s.state.elapsed or 0.0))
        # These lines are one cell high whatever they say (see DEFAULT_CSS): repainting them
        # needs no new layout, which costs ~13 ms a time and ran 10 times a second.
        self.query_one("#state", Static).update(state_line(s, compact), layout=False)
        bar = self.query_one(BytesBar)
        bar.percent, bar.of_files = done_percent(s.state), stopped_short(s.state)
        self.query_one("#progress", Static).update(progress_line(s), layout=False)
        self.query_one("#counters", Static).update(counters_line(s.state), layout=False)
        self._show_outcome(s.state)
        self._history_changed(s.state)

    def _show_outcome(self, st: RunState) -> None:
        self._state = st
        outcome = self.query_one("#outcome", Static)
        job: Job | None = getattr(self.screen, "job", None) or getattr(self.app, "job", None)
        # About four lines at the panel's width: the example is cut, never the remedy.
        width = 4 * max(40, self.size.width or 80) - len("reason: ") - 8
        line = outcome_line(st, self._counted, job, width) if not st.running else None
        if outcome.display != (line is not None):
            outcome.display = line is not None
        if line is not None:
            outcome.update(line)
