"""One night appended to the log: `history` (the table or `--json`) grows its kept answer
by a scan of what was appended (tui/history_extend.py) and prints byte for byte what a
fresh read of the whole log prints. Real commands (`python -m tui`) on the recorded log
shapes and on real rclone runs with failure streaks; whether the answer came from the
memo is read from `-X importtime` (it never loads tui.cli)."""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

import pytest

from tests.history.scenario import streak_nights
from tests.history.test_history_memo import SHAPES, Answer, _copy, fresh, history, memos
from tui import answer_memo

# The shapes whose runs each begin with a start marker at a line's start: appended whole
# runs of these grow the answer. journald's prefixes hide the marker from the line's start,
# a rotated log's live file holds one run, cut-mid-line ends open, and garbage has its
# garbage inside a run: those are read in full, with the same answer.
GROWS = ["rclone160-text", "runner-json", "runner-text", "wrapper-json", "wrapper-text"]
ALL = sorted(p.name for p in SHAPES.iterdir() if (p / "expected.json").is_file())


def run_starts(data: bytes) -> list[int]:
    """Where each run's start marker line begins."""
    starts = []
    at = data.find(b"Starting Space Mirror")
    while at != -1:
        starts.append(data.rfind(b"\n", 0, at) + 1)
        at = data.find(b"Starting Space Mirror", at + 1)
    return starts



class Cut:
    """A copy of a log cut before one of its runs, read once by `history ARGS` (which keeps
    its memo in `cache`): `grow` appends to it and checks the answer against a fresh read."""

    def __init__(self, tmp: Path, log: Path, run: int, *args: str) -> None:
        self.tmp, self.log = tmp, log
        self.whole = log.read_bytes()
        self.starts = run_starts(self.whole)
        self.at = self.starts[run] if run < len(self.starts) else len(self.whole)
        self.cache = tmp / "cache"
        self.args = args
        log.write_bytes(self.whole[:self.at])
        self.first = self.ask()

    @classmethod
    def shape(cls, tmp: Path, name: str, run: int, *args: str) -> Cut:
        return cls(tmp, _copy(name, tmp / name), run, *args)

    def ask(self) -> Answer:
        return history(self.log, self.cache, *self.args)

    def grow(self, more: bytes) -> Answer:
        """`history ARGS` after `more` is appended: the same output and warnings as a fresh
        read of the whole log."""
        with self.log.open("ab") as fh:
            fh.write(more)
        answer = self.ask()
        assert answer.code == 0, answer.err
        assert "Traceback" not in answer.err
        again = fresh(self.log, self.tmp, *self.args)
        assert (answer.out, answer.err) == (again.out, again.err)
        return answer


FORMATS = pytest.mark.parametrize("fmt", [("--json",), ()], ids=["json", "table"])


@FORMATS
@pytest.mark.parametrize("name", ALL)
def test_each_night_appended_grows_the_answer_a_fresh_read_gives(
        name: str, fmt: tuple[str, ...], tmp_path: Path) -> None:
    starts = run_starts((SHAPES / name / "space-mirror.log").read_bytes())
    cut = Cut.shape(tmp_path, name, 1 if starts[0] == 0 else 0, *fmt)
    assert cut.first.code == 0 and not cut.first.replayed
    ends = [c for c in cut.starts if c > cut.at] + [len(cut.whole)]
    for lo, hi in itertools.pairwise([cut.at, *ends]):
        answer = cut.grow(cut.whole[lo:hi])
        if name in GROWS:
            assert answer.replayed, f"{name}: the night at {lo} was read in full"
    assert cut.log.read_bytes() == cut.whole
    if name in GROWS:
        assert cut.ask().replayed  # and kept as it grew


@FORMATS
@pytest.mark.parametrize("name", GROWS)
def test_two_nights_at_once_and_a_run_id_seen_before(name: str, fmt: tuple[str, ...],
                                                      tmp_path: Path) -> None:
    """Two nights appended between two calls, then the last night's bytes again: the same
    run id twice, named `-N` as the whole history's assembly names it."""
    cut = Cut.shape(tmp_path, name, 1, *fmt)
    two = cut.grow(cut.whole[cut.at:])
    assert two.replayed
    again = cut.grow(cut.whole[cut.starts[-1]:])
    assert again.replayed
    if fmt:
        before = [r["id"] for r in json.loads(two.out)["runs"]]
        ids = [r["id"] for r in json.loads(again.out)["runs"]]
    else:  # the ID column, newest first
        at = two.out.index("ID")
        before = [line[at:].split()[0] for line in two.out.splitlines()[1:-1]][::-1]
        ids = [line[at:].split()[0] for line in again.out.splitlines()[1:-1]][::-1]
    assert ids[:-1] == before and len(set(ids)) == len(ids)
    assert ids[-1].rsplit("-", 1)[1].isdigit()


def test_a_wider_cell_draws_the_table_again(tmp_path: Path) -> None:
    """The table's columns are as wide as their widest cell: a night with a longer id and
    notes widens them, and the whole table is drawn again from the kept cells; a night
    that fits adds its line above the kept ones."""
    cut = Cut.shape(tmp_path, "runner-text", 1)
    wider = cut.grow(cut.whole[cut.starts[1]:cut.starts[2]])
    assert wider.replayed
    first = cut.first.out.splitlines()
    assert len(wider.out.splitlines()[0]) > len(first[0])  # the ID column
    assert wider.out.splitlines()[2].startswith(first[1][:60].rstrip())
    fits = cut.grow(cut.whole[:cut.starts[1]])  # the first night again
    assert fits.replayed
    assert fits.out.splitlines()[2:-1] == wider.out.splitlines()[1:-1]  # kept as they were


def test_failure_streaks_grow_night_by_night(tmp_path: Path) -> None:
    """Real runs: a file root cannot read fails three nights in a row and rclone skips the
    deletes each time, then a dry run counts what is owed. Each night appended grows the
    answer, and what repeats is counted over every run, as a fresh read counts it."""
    _, log, _ = streak_nights(tmp_path / "nights")
    cut = Cut(tmp_path, log, 1, "--json")
    assert len(cut.starts) == 5
    seen = []
    for lo, hi in itertools.pairwise([*cut.starts[1:], len(cut.whole)]):
        answer = cut.grow(cut.whole[lo:hi])
        assert answer.replayed
        p = json.loads(answer.out)["persistent"]
        seen.append((p["deletes_skipped_runs"], p["pending_deletes"],
                     [(f["path"], f["runs_in_a_row"]) for f in p["files"]]))
    assert seen == [(1, None, [("locked.bin", 1)]), (2, None, [("locked.bin", 2)]),
                    (3, None, [("locked.bin", 3)]), (3, 1, [("locked.bin", 3)])]


def test_what_is_not_a_whole_new_night_is_read_in_full(tmp_path: Path) -> None:
    """The last run going on, a run left open, then its end: the first two are full reads
    (an open run is never kept); the end grows the answer kept before the run began."""
    cut = Cut.shape(tmp_path, "runner-text", 2, "--json")
    last = cut.whole[cut.at:]
    end = last.rfind(b"\n", 0, len(last) - 1) + 1  # the end marker's line
    body = last.find(b"\n") + 1
    assert not cut.grow(b"a line after the end marker\n").replayed
    cut.log.write_bytes(cut.whole[:cut.at])  # as it was, written again: read, then kept
    assert not cut.ask().replayed
    assert cut.ask().replayed
    assert not cut.grow(last[:body]).replayed  # open: read, not kept
    assert not cut.grow(last[body:end]).replayed
    assert cut.grow(last[end:]).replayed


def test_a_log_cut_and_written_again_is_read_in_full(tmp_path: Path) -> None:
    """copytruncate empties the file in place (same inode) and the next nights make it
    larger than the answer's end: its last bytes there are not the kept ones."""
    cut = Cut.shape(tmp_path, "wrapper-text", 1, "--json")
    ino = cut.log.stat().st_ino
    with cut.log.open("r+b") as fh:
        fh.truncate(0)
        fh.write(cut.whole[cut.at:])  # two nights, more bytes than the first
    assert cut.log.stat().st_ino == ino and cut.log.stat().st_size > cut.at
    answer = cut.ask()
    assert not answer.replayed
    assert answer.out == fresh(cut.log, tmp_path, "--json").out


def test_garbage_in_a_new_night_is_read_in_full(tmp_path: Path) -> None:
    cut = Cut.shape(tmp_path, "runner-json", 2, "--json")
    night = cut.whole[cut.at:]
    body = night.find(b"\n") + 1
    answer = cut.grow(night[:body] + b"\x00\xff\xfe junk\n" + night[body:])
    assert not answer.replayed
    assert json.loads(answer.out)["warnings"]


@pytest.mark.parametrize("fmt", [("--limit", "2"), ("--json", "--limit", "2")])
def test_a_limited_answer_is_read_again(fmt: tuple[str, ...], tmp_path: Path) -> None:
    """`--limit` drops the oldest runs: that answer is read again when the log grows."""
    cut = Cut.shape(tmp_path, "runner-text", 2, *fmt)
    assert not cut.grow(cut.whole[cut.at:]).replayed


def test_the_table_keeps_its_warnings_and_its_lines(tmp_path: Path) -> None:
    """A log with garbage in its first night: the table's warnings go to stderr, and a
    clean night appended keeps them and the kept lines as a fresh read prints them."""
    cut = Cut.shape(tmp_path, "garbage", 2)
    assert cut.first.err and not cut.first.replayed
    good = (SHAPES / "wrapper-text" / "space-mirror.log").read_bytes()
    answer = cut.grow(good[run_starts(good)[1]:run_starts(good)[2]])
    assert answer.replayed and answer.err == cut.first.err


@pytest.mark.parametrize("damage", ["cut", "bad json", "bad facts", "bad number"])
def test_a_damaged_extension_is_a_full_read(damage: str, tmp_path: Path) -> None:
    cut = Cut.shape(tmp_path, "runner-json", 2, "--json")
    [memo] = memos(cut.cache)
    data = memo.read_bytes()
    head, _, body = data.partition(b"\n")
    head_end = body.find(b"\n")
    code, *lengths = (int(n) for n in body[:head_end].split())
    ext_len = lengths[-1]
    parts, ext = body[head_end + 1:len(body) - ext_len], body[len(body) - ext_len:]
    assert ext.count(b"\n") == 2
    if damage == "cut":
        new_ext = ext[:len(ext) // 2]
    elif damage == "bad json":
        new_ext = b"{" + ext
    elif damage == "bad facts":
        new_ext = ext.replace(b'"success"', b'"no-such-outcome"')
    else:
        new_ext = ext.replace(b'"covered":', b'"covered":-', 1)
    assert new_ext != ext
    lengths[-1] = len(new_ext)
    memo.write_bytes(head + b"\n" + " ".join(map(str, [code, *lengths])).encode() + b"\n"
                     + parts + new_ext)
    assert not cut.grow(cut.whole[cut.at:]).replayed


def test_the_kept_facts_are_those_that_can_still_count(tmp_path: Path) -> None:
    """The memo keeps each run's id base, and the facts of the runs from the last clean
    real run on (persistent.still_counted): what the summary reads, every digit of the
    start. Here a success, a success, a failure: the first success never counts again."""
    log = _copy("wrapper-json", tmp_path / "w")
    cache = tmp_path / "cache"
    history(log, cache, "--json")
    [memo] = memos(cache)
    ext = memo.read_bytes().rsplit(b"\n", 3)
    head, bases, facts = (json.loads(x) for x in ext[-3:])
    expected = json.loads((SHAPES / "wrapper-json" / "expected.json").read_text())
    runs = json.loads(history(log, cache, "--json").out)["runs"]
    assert head["covered"] == log.stat().st_size and head["log"] >= 0
    assert len(bases) == len(runs) == len(expected)
    assert all(r["id"] in (b, f"{b}-2") for r, b in zip(runs, bases, strict=True))
    assert [f[3] for f in facts] == [r["outcome"] for r in expected[1:]]
    assert [f[7] for f in facts] == [
        r["started"].replace("Z", "+00:00") for r in runs[1:]]
    assert [f[8] for f in facts] == [r.get("failed_files", []) for r in expected[1:]]
    assert answer_memo.MAGIC.endswith(b"2\n")
    assert os.stat(memo).st_mode & 0o777 == 0o600


def test_a_night_the_size_of_a_full_resync_is_split_across_cores(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Appended bytes past history_extend.BIG go through the split scan, as the full read's
    would: the same answer. (BIG lowered here: a 64 MB night is the bench's business.)"""
    from tests.history.test_history_memo import REPO, _env
    from tui import history_extend
    from tui.core.history import split

    cut = Cut.shape(tmp_path, "runner-text", 1, "--json")
    with cut.log.open("ab") as fh:
        fh.write(cut.whole[cut.at:])
    split_scans = []
    real = split.scan_range

    def spy(*args: object) -> object:
        split_scans.append(args[2:])
        return real(*args)  # type: ignore[arg-type]

    # The threshold is split's own: below it, split would scan in one part anyway.
    assert history_extend.BIG == 2 * split.MIN_PART_BYTES
    monkeypatch.setattr(split, "scan_range", spy)
    monkeypatch.setattr(history_extend, "BIG", 0)
    monkeypatch.chdir(REPO)
    env = _env(cut.cache)  # what history() ran with: the memo is keyed by it
    for k in list(os.environ):
        monkeypatch.delenv(k)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    argv = ["--source", str(cut.log.parent), "--dest", str(cut.log.parent / "d"),
            "--log", str(cut.log), "history", "--json"]
    assert answer_memo.replay(argv) == 0
    assert split_scans == [(cut.at, len(cut.whole))]
    assert capsys.readouterr().out == fresh(cut.log, tmp_path, "--json").out
