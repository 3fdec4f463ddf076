"""One key table per screen: it generates the screen's BINDINGS, its help and its palette.

A key is declared once, as a `Key`. A new key is one entry in its screen's table (and the
`action_…` method it names). `NAVIGATION` holds the keys every screen shares (j/k, g/G,
Ctrl-d/Ctrl-u, Space/b, q, ?), so they mean the same everywhere.

`when` shows a key in the footer only while idle or only while a sync is live; the key still
answers in the other state (a hidden twin binding, action `name('any')`), so an operator who
presses `a` with nothing running is told so. `min_width` keeps a key out of a footer too
narrow to show its label whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from textual.binding import Binding, BindingType

ANY = "any"  # the parameter of a hidden twin: always enabled, never in the footer


@dataclass(frozen=True)
class Key:
    """One key of a screen's table: its binding, and how the footer, the help screen and the
    command palette show it."""

    keys: str  # Textual key names, comma separated: "j,down"
    action: str  # the screen's action, without the action_ prefix
    label: str  # footer and palette title
    help: str  # one line for the help screen and the palette's help
    display: str | None = None  # how the help and footer write the key
    footer: bool = True
    when: Literal["idle", "live"] | None = None
    min_width: int = 0
    palette: bool = True
    priority: bool = False
    title: str = ""  # the palette's title, when it should say more than the label
    # Only on the first screen of the stack, or only on a screen above another: the same
    # key can then mean "quit" on one and "back" on the other, in one table.
    where: Literal["first", "stacked"] | None = None

    @property
    def shown_keys(self) -> str:
        return self.display or self.keys.split(",")[0]

    @property
    def palette_title(self) -> str:
        return self.title or self.label


def navigation(bottom: str = "go to the end") -> tuple[Key, ...]:
    """Keys every screen has. The screen's action_nav moves the focused list or log.
    `bottom`: what G does there (on the dashboard, the log follows again)."""
    return (
        Key("j,down", "nav('down')", "Down", "move down one line", "j / ↓", footer=False,
            palette=False),
        Key("k,up", "nav('up')", "Up", "move up one line", "k / ↑", footer=False,
            palette=False),
        Key("g,home", "nav('top')", "Top", "go to the top", "g / Home", footer=False,
            palette=False),
        Key("G,shift+g", "nav('bottom')", "Bottom", bottom, "G", footer=False, palette=False),
        Key("ctrl+d", "nav('half_down')", "Half page down", "half a page down", "Ctrl-d",
            footer=False, palette=False),
        Key("ctrl+u", "nav('half_up')", "Half page up", "half a page up", "Ctrl-u",
            footer=False, palette=False),
        Key("space,pagedown", "nav('page_down')", "Page down", "a page down", "Space / PgDn",
            footer=False, palette=False),
        Key("b,pageup", "nav('page_up')", "Page up", "a page up", "b / PgUp", footer=False,
            palette=False),
    )


NAVIGATION: tuple[Key, ...] = navigation()
# The dashboard's: G also turns following the log back on.
LOG_NAVIGATION: tuple[Key, ...] = navigation("go to the end (the log follows again)")
PALETTE_MIN_WIDTH = 100  # the footer's "^p palette" shows from this width
HELP = Key("question_mark", "help", "Help", "the keys of this screen", "?",
           title="Help: the keys of this screen")
BACK = Key("q", "back", "Back", "go back to the screen below", "q")
# The dashboard opened from the overview: q goes back there (the same action, shown so).
BACK_TO_OVERVIEW = Key("q", "back_stacked", "Back", "go back to the overview", "q",
                       where="stacked")
# q on the first screen: quits (asks first whether to leave a running sync running).
QUIT_TOP = Key("q", "back", "Quit",
               "quit (asks whether to leave a running sync running or abort it)", "q",
               title="Quit", where="first")
ESCAPE = Key("escape", "escape", "Clear / back",
             "clear the search or filter first, then go back", "Esc", footer=False,
             palette=False)
QUIT = Key("ctrl+q", "app.quit", "Quit", "quit, from any screen (asks first if a sync runs)",
           "Ctrl-q", footer=False, priority=True, palette=False)
SEARCH = (
    Key("slash", "search", "Search", "search; Enter jumps to the first match, Esc cancels",
        "/", min_width=80, title="Search log"),
    # Not in the palette: without a search term (typed after /) they have nothing to do.
    Key("n", "next_match", "Next match", "next match (shown as 3/467)", "n", footer=False,
        palette=False),
    Key("N,shift+n", "previous_match", "Previous match", "previous match", "N",
        footer=False, palette=False),
)


def bindings(table: Iterable[Key]) -> list[BindingType]:
    """The BINDINGS of a screen: one Binding per key, plus a hidden twin for `when` keys."""
    out: list[BindingType] = []
    twins: list[BindingType] = []
    for k in table:
        out.append(Binding(k.keys, k.action, k.label, show=k.footer, key_display=k.display,
                           priority=k.priority))
        if has_twin(k):
            twins.append(Binding(k.keys, f"{k.action}('{ANY}')", k.label, show=False,
                                 key_display=k.display, priority=k.priority))
    return out + twins


def applies(k: Key, first: bool) -> bool:
    """The key works on this screen: on the first screen of the stack, or above another."""
    return k.where is None or (k.where == "first") == first


def help_rows(table: Iterable[Key], first: bool | None = None) -> list[tuple[str, str]]:
    """The help's rows; with `first`, only the keys that work where the screen is."""
    return [(k.shown_keys, k.help) for k in table if first is None or applies(k, first)]


def palette_entries(table: Iterable[Key], first: bool | None = None) -> list[Key]:
    return [k for k in table if k.palette and (first is None or applies(k, first))]


def has_twin(k: Key) -> bool:
    return k.when is not None or bool(k.min_width)


def runnable_action(k: Key) -> str:
    """The action the palette runs: the twin where the footer may hide the key, so that the
    palette answers as the key does ("Nothing to abort" rather than nothing)."""
    return f"{k.action}('{ANY}')" if has_twin(k) else k.action


def action_name(action: str) -> str:
    """`nav('down')` → `nav`."""
    return action.split("(", 1)[0]


def footer_allows(table: Iterable[Key], action: str, parameters: tuple[object, ...],
                  *, live: bool, width: int, first: bool = True) -> bool:
    """Whether the footer shows this binding now (a twin, with parameters, always runs).
    A key that does not apply where the screen is (`where`) neither shows nor runs: its key
    then reaches the next binding of the same key."""
    if parameters:
        return True
    for k in table:
        if action_name(k.action) == action and "(" not in k.action:
            if not applies(k, first):
                return False
            if (k.when == "idle" and live) or (k.when == "live" and not live):
                return False
            return width >= k.min_width
    return True
