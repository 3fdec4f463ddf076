"""Small modal screens: confirm an abort, decide what quitting does to a running sync,
the key help, and a stand-in screen for parts that are not there."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.app.keys import NAVIGATION, bindings
from tui.app.screens.base import move

ABORT_TEXT = (
    "Abort the running sync?\n\n"
    "rclone stops: files already copied stay copied, a file cut short may leave a partial "
    "file, and the next run removes it and continues from there."
)


class _Dialog(ModalScreen[str | None]):
    DEFAULT_CSS = """
    _Dialog { align: center middle; }
    _Dialog > Vertical {
        width: 64; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $panel; padding: 0 1;
    }
    _Dialog Static { width: 1fr; }
    _Dialog #keys { margin-top: 1; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "choose('')", "Cancel")]

    def __init__(self, title: str, body: str, keys: str) -> None:
        super().__init__()
        self._title = title
        self._body = body
        self._keys = keys

    def compose(self) -> ComposeResult:
        box = Vertical()
        box.border_title = self._title
        with box:
            yield Static(Content(self._body), id="body")
            yield Static(Content(self._keys), id="keys")

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice or None)


class AbortScreen(_Dialog):
    """Dismisses with "abort" or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "choose('abort')", "Abort the sync"),
        Binding("n", "choose('')", "Keep it running"),
        Binding("escape", "choose('')", "Keep it running"),
    ]

    def __init__(self, what: str) -> None:
        super().__init__("Abort?", f"{ABORT_TEXT}\n\n{what}",
                         "y  abort it      n / Esc  keep it running")


class QuitScreen(_Dialog):
    """Dismisses with "leave", "abort" or None (stay)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l", "choose('leave')", "Leave it running"),
        Binding("a", "choose('abort')", "Abort it"),
        Binding("escape", "choose('')", "Stay"),
        Binding("n", "choose('')", "Stay"),
    ]

    def __init__(self) -> None:
        super().__init__(
            "A sync is running",
            "Quit the dashboard while the sync is running?\n\n"
            "Leave it running: the sync goes on by itself, and the dashboard re-attaches "
            "to it the next time you open it.\n"
            "Abort it: rclone stops; what it had copied stays, and the next run continues.",
            "l  leave it running and quit     a  abort it and quit     Esc  stay")


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 84; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $panel; padding: 0 1; overflow-y: auto;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close"),
        *bindings(NAVIGATION),
    ]

    def __init__(self, keys: list[tuple[str, str]], extra: str = "") -> None:
        super().__init__()
        self._keys = keys
        self._extra = extra

    def compose(self) -> ComposeResult:
        width = max(len(k) for k, _ in self._keys) + 2
        rows = [Content.assemble((k.ljust(width), "bold"), d) for k, d in self._keys]
        if self._extra:
            rows += [Content(""), Content.styled(self._extra, "$text-muted")]
        # Scrollable and focused: at 80x24 the list is taller than the screen, and the last
        # rows must be reachable with the arrow keys, no mouse.
        box = VerticalScroll()
        box.border_title = "Keys"
        box.border_subtitle = "Esc closes · ↑↓ scroll"
        with box:
            yield Static(Content("\n").join(rows))

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_nav(self, how: str) -> None:
        move(self.query_one(VerticalScroll), how)

