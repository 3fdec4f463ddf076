"""One past run: summary, what the exit code means, error classes, failed files, and that
run's slice of the log (plain text, bounded, with the live log's filters)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Footer, Static

from tui.app import keys as K
from tui.app.feed import LogEntry, entry_for
from tui.app.keys import Key
from tui.app.screens.logscreen import LogScreen, search_box
from tui.app.styles import css_path
from tui.app.widgets.logview import LogView
from tui.core.history import (
    Persistent,
    Run,
    default_cache_dir,
    describe,
    format_report,
    run_log_lines,
)
from tui.core.logline import LineParser
from tui.core.remedy import JobFacts
from tui.core.rundetail import FILES_SHOWN, answer_lines, facts_lines
from tui.core.text import path_lines, printable, printable_lines

MAX_LOG_LINES = 5000


def summary_text(run: Run, job: JobFacts | None = None) -> str:
    """First: why, which files, what to do (core's answer_lines); then the run's facts."""
    return "\n".join([*answer_lines(run, job), *facts_lines(run)])


def triage_text(run: Run, persistent: Persistent | None = None) -> str:
    """What repeats across runs, and every failed file when the summary had no room."""
    lines = describe(persistent) if persistent is not None else []
    if not run.error_classes and not run.failed_files:
        return "\n".join(["No ERROR lines in this run.", *lines])
    if len(run.failed_files) > FILES_SHOWN:
        shown = run.failed_files[:FILES_SHOWN * 4]
        lines.append(f"Failed files ({len(run.failed_files)}):")
        lines.extend(f"  {f}" for f in shown)
        if len(run.failed_files) > len(shown):
            lines.append(f"  … and {len(run.failed_files) - len(shown)} more (see the report)")
    return "\n".join(lines)


def log_entries(lines: list[str]) -> list[LogEntry]:
    parser = LineParser()
    out: list[LogEntry] = []
    for line in lines:
        for event in parser.feed(line):
            entry = entry_for(event)
            if entry is not None:
                out.append(entry)
    for event in parser.flush():
        entry = entry_for(event)
        if entry is not None:
            out.append(entry)
    return out


class RunLogRead(Message):
    """The run's slice of the log, read by the worker (or why it could not be)."""

    def __init__(self, lines: list[str], entries: list[LogEntry], cut: bool,
                 problem: str = "") -> None:
        super().__init__()
        self.lines = lines
        self.entries = entries
        self.cut = cut
        self.problem = problem


KEYS: tuple[Key, ...] = (
    # Short labels: the footer must show them whole at 80 columns.
    Key("e", "toggle_errors", "Errors", "log: errors only (on/off)", title="Errors only"),
    Key("f", "toggle_files", "Files", "log: hide per-file lines (on/off)",
        title="Hide per-file lines"),
    Key("r", "report", "Report", "save a triage report to a file", title="Save report"),
    Key("c", "copy", "Copy", "copy the triage report to the clipboard",
        title="Copy report"),
    K.BACK,
    *K.SEARCH,
    K.HELP,
    K.ESCAPE,
    K.QUIT,
    *K.NAVIGATION,
)


class RunDetailScreen(LogScreen):
    CSS_PATH = css_path("history.tcss")
    KEYS = KEYS
    BINDINGS: ClassVar[list[BindingType]] = K.bindings(KEYS)

    def __init__(self, run: Run, report_dir: Path | None = None,
                 persistent: Persistent | None = None, job: JobFacts | None = None) -> None:
        super().__init__()
        self.run_record = run
        self.job = job  # the remedies name its paths, backend and credentials
        self.persistent = persistent
        self.report_dir = report_dir or default_cache_dir() / "reports"
        self.log_lines: list[str] = []
        self.report_path: Path | None = None
        self.loaded = False  # the worker's answer is shown (tests wait for it)

    def compose(self) -> ComposeResult:
        run = self.run_record
        yield Static(Content(printable(f"Run {run.id}" + (f" — job {run.job}" if run.job else ""))),
                     id="detail-title")
        with VerticalScroll(id="detail-top"):
            yield Static(Content(printable_lines(summary_text(run, self.job))),
                         id="detail-summary",
                         classes=f"outcome-{run.outcome}")
            yield Static(Content(printable_lines(triage_text(run, self.persistent))),
                         id="detail-triage")
        yield Static(Content("reading the run's log…"), id="detail-log-title")
        yield LogView(MAX_LOG_LINES, id="detail-log")
        yield search_box("search this run's log (Enter: find, Esc: cancel)")
        yield Footer()

    def on_mount(self) -> None:
        log = self.query_one(LogView)
        log.follow = False
        self.load_log()

    @work(thread=True, exclusive=True, group="run-log", exit_on_error=False)
    def load_log(self) -> None:
        try:
            lines, cut = run_log_lines(self.run_record)
        except Exception as exc:  # the rotated file vanished, a damaged gzip …
            self.post_message(RunLogRead([], [], False, f"cannot read this run's log: {exc}"))
            return
        self.post_message(RunLogRead(lines, log_entries(lines), cut))

    @on(RunLogRead)
    def _log_read(self, message: RunLogRead) -> None:
        title = self.query_one("#detail-log-title", Static)
        if message.problem:
            title.update(Content(printable(message.problem)))
        else:
            self._show_log(message.lines, message.entries, message.cut)
        self.loaded = True

    def _show_log(self, lines: list[str], entries: list[LogEntry], cut: bool) -> None:
        self.log_lines = lines
        log = self.query_one(LogView)
        log.append(entries)
        title = f"Log of this run: {len(lines)} lines" + (" (the last 8 MiB)" if cut else "")
        self.query_one("#detail-log-title", Static).update(Content(title))

    def report(self) -> str:
        return format_report(self.run_record, self.log_lines, persistent=self.persistent)

    def action_report(self) -> None:
        from tui.ops.history import save_report

        name = f"space-mirror-{self.run_record.id}.txt"
        path = self.report_dir / name
        try:  # 0600 in a private folder, never through a planted name (issue 20 row 3)
            path = save_report(self.report_dir, name, self.report())
        except OSError as exc:
            self.notify(printable(f"Cannot save the report to {path}: {exc.strerror}"),
                        severity="error", markup=False)
            return
        self.report_path = path
        # A toast is at most 60 cells and half the screen wide, less its padding: the path
        # is cut only after a `/`, never mid-name.
        width = min(60, self.app.size.width // 2) - 4
        self.notify(f"Triage report saved to\n{path_lines(str(path), width)}", title="Report",
                    markup=False)

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.report())
        self.notify("Triage report copied to the clipboard (if the terminal allows it)",
                    title="Report", markup=False)
