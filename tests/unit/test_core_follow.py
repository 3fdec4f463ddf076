"""LogFollower: driven one poll() at a time, no sleeps."""

from __future__ import annotations

import os
from pathlib import Path

from recorded_lines import FIXTURES

from tui.core.follow import LogFollower, last_start_offset


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as fh:
        fh.write(data)


def drain(f: LogFollower, rounds: int = 5) -> tuple[list[bytes], list[str]]:
    lines: list[bytes] = []
    notices: list[str] = []
    for _ in range(rounds):
        b = f.poll()
        lines += b.lines
        if b.notice:
            notices.append(b.notice)
    return lines, notices


def test_complete_lines_and_a_partial_one(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_bytes(b"one\ntwo\nthr")
    f = LogFollower(log)
    assert f.poll().lines == [b"one", b"two"]
    assert f.poll().lines == []  # "thr" waits for its newline
    append(log, b"ee\nfour")
    assert f.poll().lines == [b"three"]
    append(log, b"\n")
    assert f.poll().lines == [b"four"]
    f.close()


def test_start_offset(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_bytes(b"old\nnew\n")
    f = LogFollower(log, start=4)
    assert f.poll().lines == [b"new"]


def test_rename_and_create_rotation(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_bytes(b"a\n")
    f = LogFollower(log)
    assert f.poll().lines == [b"a"]
    append(log, b"b\ntail-without-newline")
    os.rename(log, tmp_path / "log.1")
    log.write_bytes(b"c\n")
    lines, notices = drain(f)
    # the old file is drained first, its partial last line kept, then the new file from 0
    assert lines == [b"b", b"tail-without-newline", b"c"]
    assert any("rotated" in n for n in notices)
    append(log, b"d\n")
    assert f.poll().lines == [b"d"]


def test_copytruncate(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_bytes(b"first line\nsecond line\n")
    f = LogFollower(log)
    assert len(f.poll().lines) == 2
    with open(log, "r+b") as fh:  # what logrotate's copytruncate does
        fh.truncate(0)
    append(log, b"x\n")
    b = f.poll()
    assert b.lines == [b"x"]
    assert b.notice is not None and "truncated" in b.notice


def test_deleted_then_recreated(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_bytes(b"a\n")
    f = LogFollower(log)
    assert f.poll().lines == [b"a"]
    log.unlink()
    for _ in range(3):
        b = f.poll()
        assert b.lines == []
    log.write_bytes(b"again\n")
    lines, notices = drain(f)
    assert lines == [b"again"]
    assert notices


def test_missing_file_then_created(tmp_path: Path) -> None:
    log = tmp_path / "not-yet"
    f = LogFollower(log)
    b = f.poll()
    assert b.lines == [] and b.notice is not None and "waiting" in b.notice
    log.write_bytes(b"hello\n")
    assert f.poll().lines == [b"hello"]


def test_directory_is_reported(tmp_path: Path) -> None:
    f = LogFollower(tmp_path)
    b = f.poll()
    assert b.lines == [] and b.notice is not None and "directory" in b.notice


def test_over_long_line_in_one_piece(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_bytes(b"x" * 25 + b"\nok\n")
    f = LogFollower(log, max_line=10)
    assert f.poll().lines == [b"x" * 10, b"ok"]


def test_over_long_line_arriving_in_pieces(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_bytes(b"y" * 15)
    f = LogFollower(log, max_line=10)
    assert f.poll().lines == [b"y" * 10]  # head emitted now, memory stays bounded
    append(log, b"y" * 1000)
    assert f.poll().lines == []
    append(log, b"yyy\nok\n")
    assert f.poll().lines == [b"ok"]


def test_batches_are_bounded(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_bytes(b"".join(b"%d\n" % i for i in range(250)))
    f = LogFollower(log, max_batch_lines=100)
    sizes = [len(f.poll().lines) for _ in range(4)]
    assert sizes[0] >= 100 and sum(sizes) == 250


def test_binary_garbage_and_nul(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_bytes(b"\x00\xff\xfe\n\n\r\n")
    f = LogFollower(log)
    assert f.poll().lines == [b"\x00\xff\xfe", b"", b"\r"]


async def test_async_batches_until_stop(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_bytes(b"a\nb\n")
    f = LogFollower(log, poll_interval=0.01)
    seen: list[bytes] = []
    async for batch in f.batches():
        seen += batch.lines
        if len(seen) >= 2:
            f.stop()
    assert seen == [b"a", b"b"] and f.stopped


def test_last_start_offset_finds_the_last_run(tmp_path: Path) -> None:
    data = (FIXTURES / "runner.log").read_bytes()
    log = tmp_path / "log"
    log.write_bytes(data)
    off = last_start_offset(log)
    assert off is not None
    assert data[off:].startswith(b"[") and b"mode=dry-run" in data[off:].split(b"\n")[0]
    assert last_start_offset(tmp_path / "none") is None
    (tmp_path / "plain").write_bytes(b"no markers here\n")
    assert last_start_offset(tmp_path / "plain") is None
