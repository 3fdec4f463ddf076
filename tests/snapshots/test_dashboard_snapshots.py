"""Snapshots of the dashboard in each state, at 80x24 and 120x40.

Regenerate after an intended change with `pytest tests/snapshots --snapshot-update`, then
look at the SVGs under tests/snapshots/__snapshots__/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dashboard_scenes import SCENES, make_app, settle_then


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("name", list(SCENES))
def test_dashboard(snap_compare: Any, tmp_path: Path, name: str, size: tuple[int, int]) -> None:
    scene = SCENES[name]
    app = make_app(scene, tmp_path)
    assert snap_compare(app, terminal_size=size, run_before=settle_then(scene))
