"""A tiny app around the history screens, fed from the recorded fixture log."""

from __future__ import annotations

from pathlib import Path

from textual.app import App

from tui.app.screens.history import HistoryScreen
from tui.config import Job
from tui.core.history import History, scan_history

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "history" / "mixed.log"


def fixture_loader(log: Path = FIXTURE) -> History:
    return scan_history(log, use_cache=False)


class HistoryApp(App[None]):
    def __init__(self, log: Path = FIXTURE, report_dir: Path | None = None) -> None:
        super().__init__()
        self.log_path = log
        self.report_dir = report_dir
        # The title shows the job's log path: keep it the same on every machine.
        self.job = Job(name="space-mirror", log_file=Path("/var/log/space-mirror.log"))

    def on_mount(self) -> None:
        self.push_screen(HistoryScreen(self.job, loader=lambda: fixture_loader(self.log_path)))
