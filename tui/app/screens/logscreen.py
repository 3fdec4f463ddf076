"""A screen around a LogView: search (/, n, N with a 3/467 position), the errors-only and
per-file filters, and Esc that clears a search or filter before it goes back. The live
dashboard and a past run's detail share it, so the log keys mean the same on both."""

from __future__ import annotations

from textual import on
from textual.widget import Widget
from textual.widgets import Input

from tui.app.screens.base import KeyedScreen
from tui.app.widgets.logview import LogView

SEARCH_ID = "search"


def search_box(placeholder: str) -> Input:
    """The search field, docked at the bottom and hidden until / is pressed."""
    box = Input(placeholder=placeholder, id=SEARCH_ID)
    box.display = False
    return box


class LogScreen(KeyedScreen):
    def scroll_target(self) -> Widget | None:
        return self.query_one(LogView)

    def action_search(self, _how: str = "") -> None:
        search = self.query_one(f"#{SEARCH_ID}", Input)
        search.display = True
        search.value = self.query_one(LogView).search_term
        search.focus()

    @on(Input.Submitted, f"#{SEARCH_ID}")
    def _search_submitted(self, event: Input.Submitted) -> None:
        log = self.query_one(LogView)
        found = log.search(event.value)
        if event.value and not found:
            self.notify(f"not found: {event.value}", severity="warning", timeout=3, markup=False)
        self._close_search()
        log.retitle()

    def _close_search(self) -> None:
        self.query_one(f"#{SEARCH_ID}", Input).display = False
        self.query_one(LogView).focus()

    def action_next_match(self) -> None:
        log = self.query_one(LogView)
        log.next_match()
        log.retitle()

    def action_previous_match(self) -> None:
        log = self.query_one(LogView)
        log.next_match(backwards=True)
        log.retitle()

    def action_toggle_errors(self, _how: str = "") -> None:
        log = self.query_one(LogView)
        log.errors_only = not log.errors_only

    def action_toggle_files(self, _how: str = "") -> None:
        log = self.query_one(LogView)
        log.hide_files = not log.hide_files

    def action_follow(self) -> None:
        self.query_one(LogView).follow = True

    def clear_one(self) -> bool:
        """Esc: the search box, then the search, then the filters."""
        if self.query_one(f"#{SEARCH_ID}", Input).display:
            self._close_search()
            return True
        return self.query_one(LogView).clear_search_and_filters()
