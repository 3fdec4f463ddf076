"""Snapshots of the history screen and a run's detail, from the recorded fixture log."""

from __future__ import annotations

import time
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.history.screens_app import HistoryApp, NightsApp

SIZES = [(80, 24), (120, 40)]




async def _settle(pilot: Pilot[None]) -> None:
    """The workers are done and the screen shows their answer (workers post messages)."""
    await pilot.app.workers.wait_for_complete()
    deadline = time.monotonic() + 10
    while not getattr(pilot.app.screen, "loaded", False):
        assert time.monotonic() < deadline, "the screen never showed what its worker read"
        await pilot.pause(0.02)
    await pilot.pause()


def _history(keys: tuple[str, ...] = ()) -> Any:
    async def run_before(pilot: Pilot[None]) -> None:
        await _settle(pilot)
        for key in keys:
            await pilot.press(key)
            await _settle(pilot)
    return run_before


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_history_screen(snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(HistoryApp(), terminal_size=size, run_before=_history())


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_history_nights(snap_compare: Any, size: tuple[int, int]) -> None:
    """14 nights, one of 883 GiB, one a dry run: log-scale labelled bars, and the dry run
    marked in the Outcome column (`dry success` at 80 columns)."""
    assert snap_compare(NightsApp(), terminal_size=size, run_before=_history())


def test_history_failures_searched(snap_compare: Any) -> None:
    """`f` then `/c/new.txt`: the failed runs only, the cursor on the first match, 1/2."""
    keys = ("f", "slash", *"c/new.txt", "enter")
    assert snap_compare(HistoryApp(), terminal_size=(80, 24), run_before=_history(keys))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_run_detail_failed(snap_compare: Any, size: tuple[int, int]) -> None:
    """The runner's IO-error run: deletes skipped, one io error, one failed file."""
    keys = ("down", "down", "down", "enter")
    assert snap_compare(HistoryApp(), terminal_size=size, run_before=_history(keys))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_run_detail_errors_only(snap_compare: Any, size: tuple[int, int]) -> None:
    """The wrapper's missing-source run, log filtered to errors."""
    keys = ("down",) * 11 + ("enter", "e")
    assert snap_compare(HistoryApp(), terminal_size=size, run_before=_history(keys))
