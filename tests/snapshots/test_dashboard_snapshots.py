"""Snapshots of the dashboard in each state, at 80x24 and 120x40.

Regenerate after an intended change with `pytest tests/snapshots --snapshot-update`, then
look at the SVGs under tests/snapshots/__snapshots__/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dashboard_scenes import LONG_PATHS, SCENES, SIXTEEN, make_app, settle_then


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("name", list(SCENES))
def test_dashboard(snap_compare: Any, tmp_path: Path, name: str, size: tuple[int, int]) -> None:
    scene = SCENES[name]
    app = make_app(scene, tmp_path)
    assert snap_compare(app, terminal_size=size, run_before=settle_then(scene))


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
def test_long_paths_give_way_first(snap_compare: Any, tmp_path: Path,
                                   size: tuple[int, int]) -> None:
    """Issue 22, item 4: the header's long paths are cut, never the state, the last good
    mirror's age, the elapsed time or the ETA."""
    scene = LONG_PATHS["long-paths"]
    app = make_app(scene, tmp_path)
    assert snap_compare(app, terminal_size=size, run_before=settle_then(scene))


def test_sixteen_transfers_at_120x40(snap_compare: Any, tmp_path: Path) -> None:
    """Issue 22, item 6: a real sync with --transfers 16: the in-flight box shows all 16."""
    assert snap_compare(make_app(SIXTEEN, tmp_path), terminal_size=(120, 40),
                        run_before=settle_then(SIXTEEN))
