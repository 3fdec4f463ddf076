"""Issue 15, item 3's small truths on the dashboard: the speed sparkline draws nothing with
fewer than two samples (one sample was a solid block), and before rclone knows its totals the
ETA comes from history ("usually … (median of the last N similar runs)"), replaced by
rclone's figure once rclone has one. The history is a real recorded log's."""

from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import Sparkline, Static

from tui.app.widgets.inflight import FlightDeck
from tui.app.widgets.status import Situation, StatusPanel
from tui.core.history import scan_history
from tui.core.runstate import Phase, RunState
from tui.core.stats import Stats

MIXED = Path(__file__).parents[1] / "fixtures" / "history" / "mixed.log"


class One(App[None]):
    def __init__(self, widget: StatusPanel | FlightDeck) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget


async def test_one_speed_sample_draws_nothing() -> None:
    app = One(FlightDeck(id="deck"))
    async with app.run_test(size=(80, 24)) as pilot:
        deck = app.query_one(FlightDeck)
        deck.show((), (5_000_000.0,), 5_000_000.0)
        await pilot.pause()
        assert app.query_one(Sparkline).data == []
        deck.show((), (5_000_000.0, 6_000_000.0), 6_000_000.0)
        await pilot.pause()
        assert app.query_one(Sparkline).data == [5_000_000.0, 6_000_000.0]


def _progress(app: App[None]) -> str:
    return str(app.query_one("#progress", Static).render())


async def test_eta_from_history_until_rclone_has_one() -> None:
    runs = scan_history(MIXED, use_cache=False).runs
    app = One(StatusPanel(id="status"))
    async with app.run_test(size=(80, 24)) as pilot:
        panel = app.query_one(StatusPanel)
        panel.post_message(StatusPanel.Repeated(None, None, tuple(runs)))
        await pilot.pause()
        running = RunState(phase=Phase.RUNNING, run_id="r1")
        panel.show(Situation(state=running))
        await pilot.pause()
        usual = "ETA usually 0 s (median of the last 4 similar runs)"
        assert "waiting for rclone's first statistics" in _progress(app)
        assert usual in _progress(app)
        # rclone is listing: it has stats but no ETA yet.
        listing = Stats(bytes=0, total_bytes=0, speed=0.0, eta=None, listed=5000)
        panel.show(Situation(state=RunState(phase=Phase.RUNNING, run_id="r1", stats=listing)))
        await pilot.pause()
        assert usual in _progress(app)
        # rclone knows its totals and its ETA: its figure replaces the usual one.
        known = Stats(bytes=1 << 20, total_bytes=4 << 20, speed=1 << 20, eta=180.0)
        panel.show(Situation(state=RunState(phase=Phase.RUNNING, run_id="r1", stats=known)))
        await pilot.pause()
        assert "usually" not in _progress(app)
        assert "ETA 3m" in _progress(app), _progress(app)
