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
        self._stalled = False

    def show(self, transfers: tuple[Transfer, ...], stalled: bool = False) -> None:
        if transfers != self._transfers or stalled != self._stalled:
            self._transfers, self._stalled = transfers, stalled
            self.refresh()

    def render(self) -> Content:
        if not self._transfers:
            return Content.styled("nothing in flight", "$text-muted")
        width = max(10, self.size.width)
        rows: list[Content] = []
        name_width = max(4, width - 18)
        room = max(1, self.size.height)
        # More files than rows: the last row says how many more, rather than hide them.
        shown = self._transfers if len(self._transfers) <= room else \
            self._transfers[: room - 1]
        for t in shown:
            rows.append(Content.assemble(
                (f"{t.percentage:3d}% ", "bold"),
                (f"{'—' if self._stalled else format_rate(t.speed):>12} ", "$text-muted"),
                _fit(printable(t.name), name_width),
            ))
        if len(shown) < len(self._transfers):
            rows.append(Content.styled(f"+{len(self._transfers) - len(shown)} more",
                                       "$text-muted"))
        return Content("\n").join(rows)


MIN_ROWS = 4  # the in-flight list's rows on a 24-row terminal


class FlightDeck(Horizontal):
    """The in-flight list beside the speed sparkline (both hidden on small terminals)."""

    DEFAULT_CSS = """
    FlightDeck { height: 6; }
    FlightDeck > #inflight { width: 1fr; border: round $foreground-muted; }
    FlightDeck > #speed { width: 26; border: round $foreground-muted; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._most = 0  # the most files in flight at once this run
        self._cap = MIN_ROWS  # rclone's --transfers
        self._screen_height = 24

    def fit(self, transfers: int, screen_height: int) -> None:
        """Room for the files in flight, up to rclone's --transfers, as the terminal's
        height allows: 4 rows on 24, never more than half the height (the log keeps the
        rest). It grows with the most files seen in flight this run, and does not shrink
        while the run goes (a list that jumps is hard to read)."""
        self._cap, self._screen_height = transfers, screen_height
        room = min(screen_height - 20, screen_height // 2 - 2)
        rows = max(MIN_ROWS, min(self._most, transfers, room))
        if self.styles.height is None or self.styles.height.value != rows + 2:
            self.styles.height = rows + 2  # and the border

    def compose(self) -> ComposeResult:
        inflight = InFlight(id="inflight")
        inflight.border_title = "in flight"
        yield inflight
        spark = Sparkline([], id="speed")
        spark.border_title = "speed"
        yield spark

    def show(self, transfers: tuple[Transfer, ...], speeds: tuple[float, ...],
             current: float | None, stalled: bool = False) -> None:
        most = len(transfers) and max(self._most, len(transfers))  # 0: idle, start again
        if most != self._most:
            self._most = most
            self.fit(self._cap, self._screen_height)
        self.query_one(InFlight).show(transfers, stalled)
        spark = self.query_one(Sparkline)
        # Nothing moved (an instant or idle run): an all-zero history would draw as full bars;
        # and one sample draws as a solid block (core's spark_samples: two at least).
        data = spark_samples(speeds) if any(speeds) else []
        if spark.data != data:
            spark.data = data
        spark.border_subtitle = format_rate(current) if current is not None else ""
