"""One night appended to the log: `history --json` grows its kept answer by a scan of what
was appended (tui/history_extend.py) and prints byte for byte what a fresh read of the
whole log prints. Real commands (`python -m tui`) on the recorded log shapes and on real
rclone runs with failure streaks; whether the answer came from the memo is read from
`-X importtime` (it never loads tui.cli)."""

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


def grown(log: Path, cache: Path, tmp: Path, more: bytes, *args: str) -> Answer:
    """`history --json` after `more` is appended, checked against a fresh read."""
    with log.open("ab") as fh:
        fh.write(more)
    answer = history(log, cache, "--json", *args)
    assert answer.code == 0, answer.err
    assert "Traceback" not in answer.err
    assert answer.out == fresh(log, tmp, "--json", *args).out
    return answer


@pytest.mark.parametrize("name", ALL)
def test_each_night_appended_grows_the_answer_a_fresh_read_gives(name: str,
                                                                  tmp_path: Path) -> None:
    log = _copy(name, tmp_path / name)
    whole = log.read_bytes()
    cuts = [c for c in run_starts(whole) if c > 0] + [len(whole)]
    cache = tmp_path / "cache"
    log.write_bytes(whole[:cuts[0]])
    first = history(log, cache, "--json")
    assert first.code == 0 and not first.replayed
    for lo, hi in itertools.pairwise(cuts):
        answer = grown(log, cache, tmp_path, whole[lo:hi])
        if name in GROWS:
            assert answer.replayed, f"{name}: the night at {lo} was read in full"
    assert log.read_bytes() == whole
    if name in GROWS:
        assert history(log, cache, "--json").replayed  # and kept as it grew


@pytest.mark.parametrize("name", GROWS)
def test_two_nights_at_once_and_a_run_id_seen_before(name: str, tmp_path: Path) -> None:
    """Two nights appended between two calls, then the last night's bytes again: the same
    run id twice, named `-2` as the whole history's assembly names it."""
    log = _copy(name, tmp_path / name)
    whole = log.read_bytes()
    first_cut = run_starts(whole)[1]
    cache = tmp_path / "cache"
    log.write_bytes(whole[:first_cut])
    history(log, cache, "--json")
    two = grown(log, cache, tmp_path, whole[first_cut:])
    assert two.replayed
    last = whole[run_starts(whole)[-1]:]
    again = grown(log, cache, tmp_path, last)
    assert again.replayed
    before = [r["id"] for r in json.loads(two.out)["runs"]]
    ids = [r["id"] for r in json.loads(again.out)["runs"]]
    assert ids[:-1] == before and len(set(ids)) == len(ids)
    assert ids[-1].rsplit("-", 1)[1].isdigit()


def test_failure_streaks_grow_night_by_night(tmp_path: Path) -> None:
    """Real runs: a file root cannot read fails three nights in a row and rclone skips the
    deletes each time, then a dry run counts what is owed. Each night appended grows the
    answer, and what repeats is counted over every run, as a fresh read counts it."""
    _, log, _ = streak_nights(tmp_path / "nights")
    whole = log.read_bytes()
    cuts = [*run_starts(whole)[1:], len(whole)]
    assert len(cuts) == 5
    live = tmp_path / "live" / "space-mirror.log"
    live.parent.mkdir()
    live.write_bytes(whole[:cuts[0]])
    cache = tmp_path / "cache"
    history(live, cache, "--json")
    seen = []
    for lo, hi in itertools.pairwise(cuts):
        answer = grown(live, cache, tmp_path, whole[lo:hi])
        assert answer.replayed
        p = json.loads(answer.out)["persistent"]
        seen.append((p["deletes_skipped_runs"], p["pending_deletes"],
                     [(f["path"], f["runs_in_a_row"]) for f in p["files"]]))
    assert seen == [(1, None, [("locked.bin", 1)]), (2, None, [("locked.bin", 2)]),
                    (3, None, [("locked.bin", 3)]), (3, 1, [("locked.bin", 3)])]


def test_what_is_not_a_whole_new_night_is_read_in_full(tmp_path: Path) -> None:
    """The last run going on, a run left open, then its end: the first two are full reads
    (an open run is never kept); the end grows the answer kept before the run began."""
    log = _copy("runner-text", tmp_path / "t")
    whole = log.read_bytes()
    starts = run_starts(whole)
    cache = tmp_path / "cache"
    log.write_bytes(whole[:starts[2]])
    history(log, cache, "--json")
    last = whole[starts[2]:]
    end = last.rfind(b"\n", 0, len(last) - 1) + 1  # the end marker's line
    body = last.find(b"\n") + 1
    assert not grown(log, cache, tmp_path, b"a line after the end marker\n").replayed
    log.write_bytes(whole[:starts[2]])  # as it was, written again: read, then kept
    assert not history(log, cache, "--json").replayed
    assert history(log, cache, "--json").replayed
    assert not grown(log, cache, tmp_path, last[:body]).replayed  # open: read, not kept
    assert not grown(log, cache, tmp_path, last[body:end]).replayed
    assert grown(log, cache, tmp_path, last[end:]).replayed


def test_a_log_cut_and_written_again_is_read_in_full(tmp_path: Path) -> None:
    """copytruncate empties the file in place (same inode) and the next nights make it
    larger than the answer's end: its last bytes there are not the kept ones."""
    log = _copy("wrapper-text", tmp_path / "w")
    whole = log.read_bytes()
    starts = run_starts(whole)
    cache = tmp_path / "cache"
    log.write_bytes(whole[:starts[1]])
    history(log, cache, "--json")
    ino = log.stat().st_ino
    with log.open("r+b") as fh:
        fh.truncate(0)
        fh.write(whole[starts[1]:])  # two nights, more bytes than the first
    assert log.stat().st_ino == ino and log.stat().st_size > starts[1]
    answer = history(log, cache, "--json")
    assert not answer.replayed
    assert answer.out == fresh(log, tmp_path, "--json").out


def test_garbage_in_a_new_night_is_read_in_full(tmp_path: Path) -> None:
    log = _copy("runner-json", tmp_path / "g")
    whole = log.read_bytes()
    starts = run_starts(whole)
    cache = tmp_path / "cache"
    log.write_bytes(whole[:starts[2]])
    history(log, cache, "--json")
    night = whole[starts[2]:]
    body = night.find(b"\n") + 1
    answer = grown(log, cache, tmp_path, night[:body] + b"\x00\xff\xfe junk\n" + night[body:])
    assert not answer.replayed
    assert json.loads(answer.out)["warnings"]


def test_only_the_json_of_every_run_grows(tmp_path: Path) -> None:
    """The table's columns are as wide as their widest cell, and `--limit` drops the
    oldest: those answers are read again when the log grows."""
    log = _copy("runner-text", tmp_path / "t")
    whole = log.read_bytes()
    cut = run_starts(whole)[2]
    cache = tmp_path / "cache"
    log.write_bytes(whole[:cut])
    for args in [(), ("--json", "--limit", "2")]:
        history(log, cache, *args)
    with log.open("ab") as fh:
        fh.write(whole[cut:])
    for args in [(), ("--json", "--limit", "2")]:
        answer = history(log, cache, *args)
        assert not answer.replayed
        assert answer.out == fresh(log, tmp_path, *args).out


@pytest.mark.parametrize("damage", ["cut", "bad json", "bad facts", "bad number"])
def test_a_damaged_extension_is_a_full_read(damage: str, tmp_path: Path) -> None:
    log = _copy("runner-json", tmp_path / "j")
    whole = log.read_bytes()
    cut = run_starts(whole)[2]
    cache = tmp_path / "cache"
    log.write_bytes(whole[:cut])
    history(log, cache, "--json")
    [memo] = memos(cache)
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
    answer = grown(log, cache, tmp_path, whole[cut:])
    assert not answer.replayed


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

    log = _copy("runner-text", tmp_path / "big")
    whole = log.read_bytes()
    cut = run_starts(whole)[1]
    cache = tmp_path / "cache"
    log.write_bytes(whole[:cut])
    history(log, cache, "--json")
    with log.open("ab") as fh:
        fh.write(whole[cut:])
    split_scans = []
    real = split.scan_range

    def spy(*args: object) -> object:
        split_scans.append(args[2:])
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(split, "scan_range", spy)
    monkeypatch.setattr(history_extend, "BIG", 0)
    monkeypatch.chdir(REPO)
    env = _env(cache)  # what history() ran with: the memo is keyed by it
    for k in list(os.environ):
        monkeypatch.delenv(k)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    argv = ["--source", str(log.parent), "--dest", str(log.parent / "d"), "--log", str(log),
            "history", "--json"]
    assert answer_memo.replay(argv) == 0
    assert split_scans == [(cut, len(whole))]
    assert capsys.readouterr().out == fresh(log, tmp_path, "--json").out
