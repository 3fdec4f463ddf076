"""The tables our screens list rows in (runs, jobs, hosts): Enter opens a row."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import DataTable


class RowTable(DataTable[Any]):
    """A table whose Enter opens the row. The binding is the table's own, not a priority
    one of the screen: a priority Enter would run before a `j` typed just ahead of it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open", key_display="⏎")]


class DetailsTable(RowTable):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Details", key_display="⏎")]
