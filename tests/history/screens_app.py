"""A tiny app around the history screens, fed from the recorded fixture log."""

from __future__ import annotations

from collections.abc import Callable
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


def nights_history() -> History:
    """The fixture's 14 real runs spread over 14 nights (2026-11-12 … 2026-11-25, 03:00 UTC),
    with heavy-tailed sizes (one 883 GiB night among nights of 3-42 MiB; the runs that
    never said their bytes still say none) and the 2026-11-20 run a dry run: what a long
    history looks like, from real runs."""
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta

    history = fixture_loader()
    runs = []
    first = datetime(2026, 11, 12, 3, 0, tzinfo=UTC)
    for i, run in enumerate(history.runs):
        started = first + timedelta(days=i)
        size = 883 * 2**30 if i == 7 else (i + 1) * 3 * 2**20
        runs.append(replace(run, started=started, ended=started + timedelta(minutes=10 + i),
                            bytes=size if run.bytes is not None else None,
                            dry_run=started.day == 20))
    history.runs = runs
    return history


class NightsApp(App[None]):
    """The history screen on runs spread over nights (`nights_history`, or `years_history`)."""

    def __init__(self, loader: Callable[[], History] | None = None) -> None:
        super().__init__()
        self.job = Job(name="space-mirror", log_file=Path("/var/log/space-mirror.log"))
        self.loader = loader or nights_history

    def on_mount(self) -> None:
        from datetime import UTC

        self.push_screen(HistoryScreen(self.job, loader=self.loader, zone=UTC))


def years_history(nights: int = 1100) -> History:
    """The fixture's 14 real runs, repeated night after night for three years (2023-11-12
    onwards, 03:00 UTC, ids made unique): more runs than the history screen adds before its
    first paint (history.FIRST_PAGE)."""
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta

    history = fixture_loader()
    first = datetime(2023, 11, 12, 3, 0, tzinfo=UTC)
    runs = []
    for i in range(nights):
        run = history.runs[i % len(history.runs)]
        started = first + timedelta(days=i)
        runs.append(replace(run, id=f"night-{i:04d}", started=started,
                            ended=started + timedelta(minutes=10)))
    history.runs = runs
    return history

