"""A large file's cold scan split across cores (tui/core/history/split.py) gives exactly the
whole-file scan: the same fragments, the same warnings in the same order, on every recorded
log shape and on all of them in one file; a child that dies or lies is scanned again; no
child outlives a failed scan; no fork while another thread runs.

The parts are made tiny here (a part per run or two) so that the recorded logs, a few KB
each, are cut in many places; the 1 GiB CI gate (test_gate_bounded) runs the real sizes
through `space-mirror history` itself."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tui.core.history import scan, split
from tui.core.history.files import Truncated, open_buffer
from tui.core.history.model import FileScan
from tui.core.markers import MarkerKind, parse_marker

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SHAPES = FIXTURES / "shapes"
LOGS = sorted([*SHAPES.glob("*/space-mirror.log"), *SHAPES.glob("*/space-mirror.log.1"),
               FIXTURES / "history" / "mixed.log"])


@pytest.fixture
def tiny_parts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Parts of a few hundred bytes on four cores, forks allowed whatever pytest runs;
    yields the pids of the children started."""
    monkeypatch.setattr(split, "MIN_PART_BYTES", 256)
    monkeypatch.setattr(split, "usable_cores", lambda: 4)
    monkeypatch.setattr(split, "_alone", lambda: True)
    pids: list[int] = []
    real = split._fork_part

    def spy(name: str, buf: scan.Buf, lo: int, hi: int) -> tuple[int, int] | None:
        started = real(name, buf, lo, hi)
        if started is not None:
            pids.append(started[0])
        return started

    monkeypatch.setattr(split, "_fork_part", spy)
    yield pids
    for pid in pids:  # every child was reaped: none left for the test process to wait for
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def _both(path: Path) -> tuple[FileScan, FileScan]:
    with open_buffer(path, []) as buf:
        whole = scan.scan_bytes(str(path), buf)
        parts = split.scan_range(str(path), buf, 0, len(buf))
    return whole, parts


def _starts(data: bytes) -> int:
    return sum(1 for ln in data.splitlines() if ln.startswith(b"[")
               and (m := parse_marker(ln.decode("utf-8", "replace"))) is not None
               and m.kind is MarkerKind.START)


def _nights(tmp_path: Path, shape: str = "wrapper-text") -> Path:
    """A recorded log four times over: runs enough to cut in several places."""
    log = tmp_path / "space-mirror.log"
    log.write_bytes((SHAPES / shape / "space-mirror.log").read_bytes() * 4)
    return log


def _first_in_scan_part(monkeypatch: pytest.MonkeyPatch, act: Callable[[], None], *,
                        in_child: bool) -> Callable[[str, scan.Buf, int, int], scan.ScanPart]:
    """Make every part's scan run `act` first, in the children only (or in the parent
    only); returns the real scan_part."""
    parent = os.getpid()
    real = scan.scan_part

    def first_act(name: str, buf: scan.Buf, lo: int, hi: int) -> scan.ScanPart:
        if (os.getpid() != parent) == in_child:
            act()
        return real(name, buf, lo, hi)

    monkeypatch.setattr(split, "scan_part", first_act)
    return real


@pytest.mark.parametrize("path", LOGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_split_scan_is_the_whole_scan(path: Path, tiny_parts: list[int]) -> None:
    whole, parts = _both(path)
    assert parts == whole
    if _starts(path.read_bytes()) >= 3:
        assert tiny_parts, "the file was not split"


@pytest.mark.parametrize("cores", [2, 3, 4])
def test_every_shape_in_one_file(cores: int, tmp_path: Path, tiny_parts: list[int],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Text, JSON, journald, 1.60's stats, a run cut mid-line, garbage bytes, one after the
    other: the cuts land between two formats, and the warnings (NUL bytes, invalid UTF-8,
    a cut line) come from several parts under one cap."""
    monkeypatch.setattr(split, "usable_cores", lambda: cores)
    log = tmp_path / "space-mirror.log"
    log.write_bytes(b"".join(p.read_bytes() for p in LOGS) * 3)
    whole, parts = _both(log)
    assert parts == whole
    assert len(tiny_parts) >= 2
    assert whole.warnings, "the garbage shape gives warnings"
    assert len({f.region_start for f in whole.fragments}) == len(whole.fragments)


def test_warnings_past_the_cap_are_counted_across_parts(tmp_path: Path,
                                                        tiny_parts: list[int]) -> None:
    garbage = (SHAPES / "garbage" / "space-mirror.log").read_bytes()
    log = tmp_path / "space-mirror.log"
    log.write_bytes(garbage * 40)
    whole, parts = _both(log)
    assert whole.warnings[-1].message.endswith("more warnings not shown")
    assert len(whole.warnings) == scan.MAX_WARNINGS_PER_FILE + 1
    assert parts == whole


def test_a_child_that_dies_has_its_part_scanned_again(
        tmp_path: Path, tiny_parts: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    log = _nights(tmp_path)
    real = _first_in_scan_part(monkeypatch, lambda: os.kill(os.getpid(), signal.SIGKILL),
                               in_child=True)
    with open_buffer(log, []) as buf:
        whole = real(str(log), buf, 0, len(buf))
        parts = split.scan_range(str(log), buf, 0, len(buf))
    assert tiny_parts
    assert parts.fragments == whole.fragments
    assert parts.warnings == whole.warnings


def test_a_child_that_sends_nonsense_has_its_part_scanned_again(
        tmp_path: Path, tiny_parts: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    log = _nights(tmp_path, "runner-json")
    parent = os.getpid()
    real = scan.ScanPart.plain

    def lies(self: scan.ScanPart) -> tuple[object, ...]:
        return ("not", "a part") if os.getpid() != parent else real(self)

    monkeypatch.setattr(scan.ScanPart, "plain", lies)
    whole, parts = _both(log)
    assert tiny_parts
    assert parts == whole


def test_no_child_outlives_a_failed_scan(tmp_path: Path, tiny_parts: list[int],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The file shrinks under the scan (copytruncate): the error reaches the caller, as in a
    whole-file scan, and the children are stopped and reaped (the fixture checks)."""
    log = _nights(tmp_path)

    def shrank() -> None:
        raise Truncated(5, "the file shrank while it was read")

    _first_in_scan_part(monkeypatch, shrank, in_child=False)
    with open_buffer(log, []) as buf, pytest.raises(Truncated):
        split.scan_range(str(log), buf, 0, len(buf))
    assert tiny_parts


def test_no_fork_while_another_thread_runs(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(split, "MIN_PART_BYTES", 256)
    monkeypatch.setattr(split, "usable_cores", lambda: 4)
    forks: list[int] = []
    monkeypatch.setattr(split, "_fork_part", lambda *a: forks.append(1))
    log = _nights(tmp_path)
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait)
    worker.start()
    try:
        whole, parts = _both(log)
    finally:
        stop.set()
        worker.join()
    assert forks == []
    assert parts == whole


def test_one_core_or_a_small_file_is_one_part(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    log = _nights(tmp_path)
    monkeypatch.setattr(split, "_alone", lambda: True)
    with open_buffer(log, []) as buf:
        monkeypatch.setattr(split, "usable_cores", lambda: 1)
        monkeypatch.setattr(split, "MIN_PART_BYTES", 256)
        assert split._parts_wanted(buf, len(buf)) == 1
        monkeypatch.setattr(split, "usable_cores", lambda: 2)
        assert split._parts_wanted(buf, len(buf)) == 3
        monkeypatch.setattr(split, "MIN_PART_BYTES", len(buf))
        assert split._parts_wanted(buf, len(buf)) == 1


def test_cuts_fall_only_on_start_marker_lines(tmp_path: Path) -> None:
    """The marker's text inside an rclone line (a file named after it), `[` mid-line and at
    a line start that is no marker: none of them is a cut."""
    night = (SHAPES / "wrapper-text" / "space-mirror.log").read_bytes()
    decoys = (b"2026/11/25 03:00:05 INFO  : Starting Space Mirror... [1].txt: Copied (new)\n"
              b"[not a marker] Starting Space Mirror... run=x\n"
              b"2026/11/25 03:00:06 INFO  : a[b]: Copied (new)\n") * 2000
    log = tmp_path / "space-mirror.log"
    log.write_bytes(night + decoys + night + decoys + night)
    data = log.read_bytes()
    with open_buffer(log, []) as buf:
        for parts in range(2, 6):
            cuts = split.plan_cuts(buf, 0, len(buf), parts)
            assert cuts[0] == 0 and cuts[-1] == len(data) and cuts == sorted(set(cuts))
            for cut in cuts[1:-1]:
                line = data[cut:data.index(b"\n", cut)].decode()
                assert data[cut - 1:cut] == b"\n", cut
                marker = parse_marker(line)
                assert marker is not None and marker.kind is MarkerKind.START, line


def test_a_child_never_runs_the_parents_signal_handlers(
        tmp_path: Path, tiny_parts: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner reads the history with its own SIGTERM handler installed (it ends the run
    and writes the end marker): a scanning child that gets SIGTERM dies of it, as a plain
    process would, and never runs that handler; its part is scanned again here."""
    log = _nights(tmp_path)
    ran = tmp_path / "handler-ran"

    def handler(signum: int, frame: object) -> None:
        ran.write_text(str(os.getpid()))

    real = _first_in_scan_part(monkeypatch, lambda: os.kill(os.getpid(), signal.SIGTERM),
                               in_child=True)
    old = signal.signal(signal.SIGTERM, handler)
    try:
        with open_buffer(log, []) as buf:
            whole = real(str(log), buf, 0, len(buf))
            parts = split.scan_range(str(log), buf, 0, len(buf))
        assert signal.getsignal(signal.SIGTERM) is handler  # the parent's, untouched
    finally:
        signal.signal(signal.SIGTERM, old)
    assert tiny_parts
    assert not ran.exists(), f"the handler ran in process {ran.read_text()}"
    assert (parts.fragments, parts.warnings) == (whole.fragments, whole.warnings)
