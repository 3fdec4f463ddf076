"""Files in flight (rclone's `transferring` list) and a small speed history."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Sparkline

from tui.core.charts import spark_samples
from tui.core.stats import Transfer
from tui.core.text import printable
from tui.core.units import format_rate


def _fit(name: str, width: int) -> str:
    """Keep the end of a long path: the file name matters more than its folders."""
    if width <= 1:
        return ""
    if len(name) <= width:
        return name.ljust(width)
    return "…" + name[-(width - 1):]


class InFlight(Widget):
    """One line per file being transferred: percent, speed, name. Plain text only."""

    DEFAULT_CSS = """
    InFlight { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._transfers: tuple[Transfer, ...] = ()

    def show(self, transfers: tuple[Transfer, ...]) -> None:
        if transfers != self._transfers:
            self._transfers = transfers
            self.refresh()

    def render(self) -> Content:
        if not self._transfers:
            return Content.styled("nothing in flight", "$text-muted")
        width = max(10, self.size.width)
        rows: list[Content] = []
        name_width = max(4, width - 18)
        for t in self._transfers[: max(1, self.size.height)]:
            rows.append(Content.assemble(
                (f"{t.percentage:3d}% ", "bold"),
                (f"{format_rate(t.speed):>12} ", "$text-muted"),
                _fit(printable(t.name), name_width),
            ))
        return Content("\n").join(rows)


class FlightDeck(Horizontal):
    """The in-flight list beside the speed sparkline (both hidden on small terminals)."""

    DEFAULT_CSS = """
    FlightDeck { height: 6; }
    FlightDeck > #inflight { width: 1fr; border: round $foreground-muted; }
    FlightDeck > #speed { width: 26; border: round $foreground-muted; }
    """

    def compose(self) -> ComposeResult:
        inflight = InFlight(id="inflight")
        inflight.border_title = "in flight"
        yield inflight
        spark = Sparkline([], id="speed")
        spark.border_title = "speed"
        yield spark

    def show(self, transfers: tuple[Transfer, ...], speeds: tuple[float, ...],
             current: float | None) -> None:
        self.query_one(InFlight).show(transfers)
        spark = self.query_one(Sparkline)
        # Nothing moved (an instant or idle run): an all-zero history would draw as full bars;
        # and one sample draws as a solid block (core's spark_samples: two at least).
        data = spark_samples(speeds) if any(speeds) else []
        if spark.data != data:
            spark.data = data
        spark.border_subtitle = format_rate(current) if current is not None else ""
