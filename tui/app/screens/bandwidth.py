"""The bandwidth dialog (`w` on the dashboard): a rate for the running sync, checked with
core's bwlimit.rate_problem before anything is sent to rclone."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui.core.bwlimit import RATE_HELP, rate_problem


class BandwidthScreen(ModalScreen[str | None]):
    """Dismisses with a valid rate (`512k`, `10M`, `off`) or None (Esc)."""

    DEFAULT_CSS = """
    BandwidthScreen { align: center middle; }
    BandwidthScreen > Vertical {
        width: 64; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $panel; padding: 0 1;
    }
    BandwidthScreen #bw-problem { color: $text-error; height: auto; }
    BandwidthScreen #bw-keys { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: str | None) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        box = Vertical()
        box.border_title = "Bandwidth limit"
        with box:
            now = f"now: {self.current}" if self.current else "now: unknown"
            yield Static(Content(f"Limit the running sync ({now}); applies at once, for this "
                                 f"run only.\nType {RATE_HELP}."), id="bw-body")
            yield Input(placeholder="e.g. 512k, 10M, off", id="bw-rate")
            yield Static(Content(""), id="bw-problem")
            yield Static(Content("Enter  set it      Esc  cancel"), id="bw-keys")

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

    def action_cancel(self) -> None:
        self.dismiss(None)
