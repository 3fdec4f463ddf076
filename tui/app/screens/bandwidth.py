"""The bandwidth dialog (`w` on the dashboard): a rate for the running sync, checked with
core's bwlimit.rate_problem before anything is sent to rclone."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, Static

from tui.app.screens.dialogs import _Dialog
from tui.core.bwlimit import RATE_HELP, rate_problem


class BandwidthScreen(_Dialog):
    """Dismisses with a valid rate (`512k`, `10M`, `off`) or None (Esc)."""

    DEFAULT_CSS = """
    BandwidthScreen #bw-problem { color: $text-error; height: auto; }
    """

    def __init__(self, current: str | None) -> None:
        super().__init__("Bandwidth limit", "", "Enter  set it      Esc  cancel")
        self.current = current

    def compose(self) -> ComposeResult:
        box = Vertical()
        box.border_title = self._title
        with box:
            now = f"now: {self.current}" if self.current else "now: unknown"
            yield Static(Content(f"Limit the running sync ({now}); applies at once, for this "
                                 f"run only.\nType {RATE_HELP}."), id="bw-body")
            yield Input(placeholder="e.g. 512k, 10M, off", id="bw-rate")
            yield Static(Content(""), id="bw-problem")
            yield Static(Content(self._keys), id="keys")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        rate = event.value.strip()
        problem = rate_problem(rate)
        if problem is not None:
            self.query_one("#bw-problem", Static).update(Content(problem))
            return
        self.dismiss(rate)

