"""The tables our screens list rows in (runs, jobs, hosts): Enter opens a row."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from rich.console import Console, ConsoleOptions, JustifyMethod
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable


class Cell:
    """A cell of a table whose columns are sized by the screen: drawn as its text, never
    parsed as markup, never measured.

    - A `str` cell is Rich markup to Textual's DataTable: a host label or a file name
      holding `[bold]` changed style, and one holding `[/x]` stopped the screen with a
      MarkupError. A Cell's text is shown as it is.
    - DataTable measures every cell of every new row, and rich's measure asks the terminal
      for its size each time (an ioctl per cell): 8,700 cells for a history of 940 runs held
      the UI thread for ~90 ms before the list showed. Something rich can draw but not
      measure counts as one cell wide, which a column whose width was given never reads.
    - Its style and justification are kept beside its text, and its Text is made when it
      is drawn: a history of 969 runs made 6,800 Texts for its list (22 ms on the UI thread
      before the first page showed), of which a screen draws ~150.
    - A text wider than its column ends in `…`: cut silently, `last success 60 h ago, over
      50 h` read `… over 50`, a number without its unit."""

    __slots__ = ("justify", "style", "text")

    def __init__(self, text: str, style: str = "", justify: JustifyMethod | None = None) -> None:
        self.text = text
        self.style = style
        self.justify: JustifyMethod | None = justify

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Text]:
        yield Text(self.text, style=self.style, justify=self.justify, overflow="ellipsis",
                   no_wrap=True)

    def __str__(self) -> str:
        return self.text


def right(text: str, style: str = "") -> Cell:
    """A right-justified cell (a number's)."""
    return Cell(text, style, "right")


class RowTable(DataTable[Any]):
    """A table whose Enter opens the row. The binding is the table's own, not a priority
    one of the screen: a priority Enter would run before a `j` typed just ahead of it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open", key_display="⏎")]


class DetailsTable(RowTable):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Details", key_display="⏎")]
