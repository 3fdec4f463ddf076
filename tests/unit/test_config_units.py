"""Issue 22, item 7: config errors that help. Durations take units, a spaced-out rate says
what to write, an unknown key gets a "did you mean", and every error is one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.config import ConfigError, load_job
from tui.core.units import parse_duration


def _load(tmp_path: Path, line: str) -> object:
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[jobs.t]\nsource = "/s"\ndestination = "/d"\n{line}\n')
    return load_job(cfg, "t")


@pytest.mark.parametrize(("text", "seconds"), [
    ("30m", 1800.0), ("1h30m", 5400.0), ("90s", 90.0), ("2 h", 7200.0), ("1800", 1800.0),
    ("1.5h", 5400.0), ("2 hours", 7200.0), ("1d", 86400.0), ("10 min", 600.0)])
def test_durations_with_units(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "30x", "1h30", "-5m", "m"])
def test_what_is_not_a_duration(text: str) -> None:
    assert parse_duration(text) is None


def test_stall_timeout_takes_a_duration(tmp_path: Path) -> None:
    job = _load(tmp_path, 'stall_timeout = "30m"\nmax_duration = "6h"\nwarn_after = "26h"')
    assert job.stall_timeout == 1800.0  # type: ignore[attr-defined]
    assert job.max_duration == 6 * 3600.0  # type: ignore[attr-defined]
    assert job.warn_after == 26 * 3600.0  # type: ignore[attr-defined]
    assert _load(tmp_path, "stall_timeout = 600").stall_timeout == 600.0  # type: ignore


def test_a_bad_duration_says_what_a_duration_is(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        _load(tmp_path, 'stall_timeout = "half an hour"')
    msg = str(e.value)
    assert "stall_timeout" in msg and "30m" in msg and "seconds" in msg and "\n" not in msg


def test_spaced_rate_says_what_to_write(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        _load(tmp_path, 'bwlimit = "10 M"')
    msg = str(e.value)
    assert "'10M'" in msg and "HH:MM" not in msg.split(";")[0], msg


def test_unknown_key_gets_a_suggestion(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[jobs.t]\nsource = "/s"\ndestinaton = "/d"\n')
    with pytest.raises(ConfigError) as e:
        load_job(cfg, "t")
    assert "unknown key 'destinaton'" in str(e.value)
    assert "did you mean 'destination'?" in str(e.value)
