"""Fixtures for the dashboard's Pilot tests; the helpers live in app_helpers.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from app_helpers import JobDir, make_job_dir, stop_runner


@pytest.fixture
def job_dir(tmp_path: Path) -> JobDir:
    return make_job_dir(tmp_path)


@pytest.fixture
def slow_job_dir(tmp_path: Path) -> Iterator[JobDir]:
    """A run that lasts a few seconds (bandwidth limit), stopped at teardown if still going."""
    jd = make_job_dir(tmp_path, files=6, size=300_000, bwlimit="400k")
    yield jd
    stop_runner(jd.job)
