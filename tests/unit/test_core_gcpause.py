"""The cyclic collector is held off while a history is read, and always comes back."""

from __future__ import annotations

import gc
import shutil
from pathlib import Path

import pytest

from tui.core.gcpause import gc_paused
from tui.core.history import assemble, scan_history

MIXED = Path(__file__).resolve().parents[1] / "fixtures" / "history" / "mixed.log"


def test_off_in_the_block_and_on_after_it_even_on_an_error() -> None:
    assert gc.isenabled()
    with pytest.raises(KeyError), gc_paused():
        assert not gc.isenabled()
        raise KeyError("boom")
    assert gc.isenabled()


def test_a_block_inside_another_leaves_it_to_the_outer_one() -> None:
    with gc_paused():
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block did not turn it back on
    assert gc.isenabled()


def test_a_collector_turned_off_by_the_caller_stays_off() -> None:
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_history_is_read_with_the_collector_off(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "space-mirror.log"
    shutil.copyfile(MIXED, log)
    seen: list[bool] = []
    real = assemble._assemble

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(assemble, "_assemble", spy)
    assert scan_history(log, cache_dir=tmp_path / "cache").runs
    assert seen == [False] and gc.isenabled()
