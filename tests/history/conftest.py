from __future__ import annotations

from pathlib import Path

import pytest

from tests.history.realruns import Expect, all_scenarios

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "history"


@pytest.fixture(scope="module")
def real_log(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Expect]]:
    """One log holding every scenario, made now by the legacy wrapper and by our runner."""
    base = tmp_path_factory.mktemp("realruns")
    log = base / "space-mirror.log"
    expected = all_scenarios(base, log, "wrapper") + all_scenarios(base, log, "runner")
    return log, expected


@pytest.fixture
def mixed_log() -> Path:
    """The recorded fixture log (tests/fixtures/make_history_logs.py)."""
    return FIXTURES / "mixed.log"
