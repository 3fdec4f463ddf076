"""What every screen of ours shares: its key table, the movement keys, `?` and `q`.

A screen declares `KEYS` (tui.app.keys); its BINDINGS come from them. `action_nav` moves
whatever is focused (a log, a table, a scrolling text), so j/k/g/G/Ctrl-d/Ctrl-u/Space/b
mean the same on every screen. `q` goes back, and quits only from the first screen.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widget import Widget

from tui.app.keys import Key, help_rows

# move → the widget actions that do it, first found wins (tables and trees move a cursor,
# the rest scroll).
MOVES: dict[str, tuple[str, ...]] = {
    "down": ("cursor_down", "scroll_down"),
    "up": ("cursor_up", "scroll_up"),
    "top": ("scroll_top", "scroll_home"),
    "bottom": ("scroll_bottom", "scroll_end"),
    "page_down": ("page_down",),
    "page_up": ("page_up",),
}


def move(widget: Widget, how: str) -> None:
    """Move `widget` (the focused one) the way a pager would."""
    if how in ("half_down", "half_up"):
        # Imported here: the dashboard's first frame has neither (textual's DataTable is
        # 2 ms of imports, issue 21's start-up budget).
        from textual.widgets import DataTable, Tree

        sign = 1 if how == "half_down" else -1
        half = max(1, widget.scrollable_content_region.height // 2)
        if isinstance(widget, DataTable):
            widget.move_cursor(row=max(0, widget.cursor_row + sign * half))
        elif isinstance(widget, Tree):
            line = max(0, widget.cursor_line + sign * half)
            widget.cursor_line = min(line, max(0, widget.last_line))
        else:
            if sign < 0:
                up = getattr(widget, "action_scroll_up", None)  # a log stops following
                if up is not None:
                    up()
            widget.scroll_relative(y=sign * half, animate=False)
        return
    for name in MOVES.get(how, ()):
        action = getattr(widget, f"action_{name}", None)
        if action is not None:
            action()
            return


class KeyedScreen(Screen[Any]):
    """A full screen with a key table. Subclasses set KEYS and BINDINGS = bindings(KEYS)."""

    KEYS: ClassVar[tuple[Key, ...]] = ()
    HELP_EXTRA: ClassVar[tuple[tuple[str, str], ...]] = (
        ("Ctrl-p", "command palette: every action of this screen"),)

    def scroll_target(self) -> Widget | None:
        """What the movement keys move when nothing is focused."""
        return None

    def action_nav(self, how: str) -> None:
        try:
            target = self.focused or self.scroll_target()
        except NoMatches:  # a key that arrived while the screen is still being built
            return
        if target is not None:
            move(target, how)

    def help_rows(self) -> list[tuple[str, str]]:
        first = self.is_first() if self.is_attached else True
        return help_rows(self.KEYS, first) + list(self.HELP_EXTRA)

    def help_note(self) -> str:
        return ""

    def action_help(self) -> None:
        from tui.app.screens.dialogs import HelpScreen

        self.app.push_screen(HelpScreen(self.help_rows(), extra=self.help_note()))

    def is_first(self) -> bool:
        return len(self.app.screen_stack) <= 1 or self.app.screen_stack[0] is self

    async def action_back(self, _how: str = "") -> None:
        """q: back to the screen below; on the first screen, quit."""
        if self.is_first():
            self.app.exit(0)
        else:
            self.dismiss(None)

    def clear_one(self) -> bool:
        """Esc's first job: clear a search or a filter. True when it cleared something."""
        return False

    async def action_escape(self) -> None:
        if not self.clear_one() and not self.is_first():
            self.dismiss(None)
