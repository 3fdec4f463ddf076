"""`space-mirror history` asked again: the kept answer (tui/answer_memo.py) is printed only
while everything it was made from is unchanged, and is byte for byte what a fresh read
prints. Real commands (`python -m tui`) on the real log shapes of tests/fixtures/shapes/;
whether an answer was replayed is read from `-X importtime` (a replay never loads tui.cli)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tui import answer_memo
from tui.core import filestamp
from tui.core.history import History
from tui.history_cli import Printed

REPO = Path(__file__).resolve().parents[2]
SHAPES = REPO / "tests" / "fixtures" / "shapes"
NAMES = sorted(p.name for p in SHAPES.iterdir() if (p / "expected.json").is_file())


def _env(cache: Path, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPACE_MIRROR_")}
    env.update({"XDG_CACHE_HOME": str(cache), "TZ": "UTC", "LC_ALL": "C.UTF-8"}, **more)
    return env


class Answer:
    def __init__(self, proc: subprocess.CompletedProcess[str]) -> None:
        self.code = proc.returncode
        self.out = proc.stdout
        lines = proc.stderr.splitlines()
        self.err = "\n".join(x for x in lines if not x.startswith("import time:"))
        self.replayed = not any(x.endswith("| tui.cli") for x in lines)


def history(log: Path, cache: Path, *args: str, cwd: Path | None = None,
            **env: str) -> Answer:
    argv = [sys.executable, "-X", "importtime", "-m", "tui", "--source", str(log.parent),
            "--dest", str(log.parent / "d"), "--log", str(log), "history", *args]
    return Answer(subprocess.run(argv, capture_output=True, text=True, timeout=60,
                                 env=_env(cache, **env), cwd=cwd or REPO))


def fresh(log: Path, tmp: Path, *args: str) -> Answer:
    """The answer read from nothing: an empty cache of its own."""
    cache = tmp / f"fresh-{len(list(tmp.glob('fresh-*')))}"
    return history(log, cache, *args)


def _copy(name: str, dest: Path) -> Path:
    shutil.copytree(SHAPES / name, dest, ignore=shutil.ignore_patterns("expected.json"))
    return dest / "space-mirror.log"


def _printed(out: str) -> Printed:
    """An answer as `history` prints it, from a history with no run (nothing open)."""
    return Printed(0, out, "", History([], []))


def memos(cache: Path) -> list[Path]:
    return sorted((cache / "space-mirror").glob("answer-*.memo"))


@pytest.mark.parametrize("fmt", [(), ("--json",), ("--limit", "2")])
@pytest.mark.parametrize("name", NAMES)
def test_every_shape_replays_what_a_fresh_read_prints(name: str, fmt: tuple[str, ...],
                                                      tmp_path: Path) -> None:
    log = _copy(name, tmp_path / name)
    cache = tmp_path / "cache"
    first = history(log, cache, *fmt)
    assert first.code == 0 and not first.replayed, first.err
    again = history(log, cache, *fmt)
    expected = json.loads((SHAPES / name / "expected.json").read_text())
    if expected[-1]["outcome"] == "incomplete":  # cut off at the end: never kept
        assert not again.replayed and memos(cache) == []
    else:
        assert again.replayed, again.err
    assert (again.code, again.out, again.err) == (first.code, first.out, first.err)
    assert first.out == fresh(log, tmp_path, *fmt).out


def test_a_grown_log_gives_the_fresh_answer(tmp_path: Path) -> None:
    """One more night: the JSON of every run and the table grow their memos (tests/history/
    test_history_extend.py); both print what a fresh read does."""
    log = _copy("runner-json", tmp_path / "j")
    cache = tmp_path / "cache"
    whole = log.read_bytes()
    cut = whole.rfind(b"Starting Space Mirror")
    cut = whole.rfind(b"\n", 0, cut) + 1
    log.write_bytes(whole[:cut])
    before = history(log, cache, "--json")
    table = history(log, cache)
    assert history(log, cache, "--json").replayed and history(log, cache).replayed
    with log.open("ab") as fh:  # one more night
        fh.write(whole[cut:])
    after = history(log, cache, "--json")
    assert after.replayed
    assert after.out != before.out
    assert after.out == fresh(log, tmp_path, "--json").out
    assert history(log, cache, "--json").replayed
    again = history(log, cache)
    assert again.replayed and again.out != table.out
    assert again.out == fresh(log, tmp_path).out


def test_a_rotation_is_seen_through_the_folder(tmp_path: Path) -> None:
    """logrotate renames the live log and makes a new one: the answer is read again."""
    log = _copy("rotated", tmp_path / "r")
    cache = tmp_path / "cache"
    history(log, cache)
    assert history(log, cache).replayed
    os.rename(log.with_name("space-mirror.log.1"), log.with_name("space-mirror.log.1.old"))
    os.rename(log, log.with_name("space-mirror.log.1"))
    log.write_bytes(b"")
    after = history(log, cache)
    assert not after.replayed
    assert after.out == fresh(log, tmp_path).out


def test_a_changed_config_or_environment_is_a_new_question(tmp_path: Path) -> None:
    log = _copy("wrapper-text", tmp_path / "w")
    cache = tmp_path / "cache"
    config = tmp_path / "config.toml"
    config.write_text(f'[jobs.t]\nsource = "{tmp_path}"\ndestination = "{tmp_path}/d"\n'
                      f'log_file = "{log}"\nrequire_mount = false\n')
    history(log, cache, SPACE_MIRROR_CONFIG=str(config))
    assert history(log, cache, SPACE_MIRROR_CONFIG=str(config)).replayed
    assert not history(log, cache, SPACE_MIRROR_CONFIG=str(config), TZ="Asia/Tokyo").replayed
    config.write_text(config.read_text() + "# edited\n")
    assert not history(log, cache, SPACE_MIRROR_CONFIG=str(config)).replayed
    # A relative --log names another file from another folder.
    other = _copy("runner-text", tmp_path / "elsewhere")
    rel_a = history(Path("space-mirror.log"), cache, cwd=log.parent)
    rel_b = history(Path("space-mirror.log"), cache, cwd=other.parent)
    assert not rel_b.replayed and rel_b.out != rel_a.out


def test_a_run_left_open_at_the_end_is_never_kept(tmp_path: Path) -> None:
    """Running or cut off is the process table's answer, not the log's."""
    log = _copy("runner-text", tmp_path / "o")
    with log.open("a") as fh:
        fh.write("[2026-12-07T01:30:00+00:00] Starting Space Mirror... run=open job=t "
                 "mode=sync pid=1\n")
    cache = tmp_path / "cache"
    first = history(log, cache)
    assert "incomplete" in first.out
    assert memos(cache) == []
    assert not history(log, cache).replayed


def test_a_memo_not_ours_alone_is_not_read(tmp_path: Path) -> None:
    """Another user's file, or one others may write, is never printed as our answer."""
    log = _copy("runner-text", tmp_path / "s")
    cache = tmp_path / "cache"
    real = history(log, cache)
    [memo] = memos(cache)
    data = memo.read_bytes()
    forged = data.replace(b"success", b"SUCCESS")
    assert forged != data
    memo.write_bytes(forged)
    os.chmod(memo, 0o620)  # group-writable
    again = history(log, cache)
    assert not again.replayed and again.out == real.out
    [memo] = memos(cache)
    memo.write_bytes(forged)
    os.chown(memo, 65534, 65534)  # nobody's
    again = history(log, cache)
    assert not again.replayed and again.out == real.out


def test_a_cut_or_corrupt_memo_is_a_miss(tmp_path: Path) -> None:
    log = _copy("runner-json", tmp_path / "c")
    cache = tmp_path / "cache"
    real = history(log, cache, "--json")
    [memo] = memos(cache)
    data = memo.read_bytes()
    for bad in (data[:-1], data[: len(data) // 2], b"junk\n" + data[5:], b""):
        memo.write_bytes(bad)
        again = history(log, cache, "--json")
        assert (again.replayed, again.out, again.code) == (False, real.out, 0)


def test_a_replay_into_a_closed_pipe_exits_quietly(tmp_path: Path) -> None:
    log = _copy("runner-json", tmp_path / "p")
    cache = tmp_path / "cache"
    history(log, cache, "--json")
    argv = [sys.executable, "-m", "tui", "--source", str(log.parent), "--dest",
            str(log.parent / "d"), "--log", str(log), "history", "--json"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=_env(cache, PYTHONIOENCODING="utf-8"), bufsize=0)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader left before a byte was read
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 0
    assert b"Traceback" not in err and b"Error" not in err, err


def test_a_stamp_taken_before_the_read_cannot_keep_a_stale_answer(tmp_path: Path) -> None:
    """The log is appended to while the answer is being read: the memo carries the stamp of
    before, so the next call sees the file changed and reads it again."""
    log = tmp_path / "live.log"
    log.write_text("one\n")
    paths = [str(log)]
    before = filestamp.stamp(paths)
    with log.open("a") as fh:  # written during the read
        fh.write("two\n")
    answer_memo.keep(["history"], paths, before, _printed("answer for one line\n"))
    assert memos(Path(os.environ["XDG_CACHE_HOME"]))  # kept, stamped as before
    assert answer_memo.replay(["history"]) is None
    answer_memo.keep(["history"], paths, filestamp.stamp(paths), _printed("both\n"))
    assert answer_memo.replay(["history"]) == 0


def test_memos_are_bounded(tmp_path: Path) -> None:
    log = tmp_path / "l.log"
    log.write_text("")
    for n in range(answer_memo.KEEP_AT_MOST + 5):
        answer_memo.keep(["history", "--limit", str(n)], [str(log)],
                         filestamp.stamp([str(log)]), _printed(f"{n}\n"))
    assert len(memos(Path(os.environ["XDG_CACHE_HOME"]))) == answer_memo.KEEP_AT_MOST


def test_a_memo_in_a_folder_not_ours_is_not_read(tmp_path: Path) -> None:
    """root under `sudo -E` with a user's XDG_CACHE_HOME: that user could have put any answer
    there, so the folder is refused as the history cache is, and the logs are read."""
    log = _copy("runner-text", tmp_path / "u")
    cache = tmp_path / "cache"
    real = history(log, cache)
    forged = memos(cache)[0].read_bytes().replace(b"success", b"SUCCESS")
    [memo] = memos(cache)
    memo.write_bytes(forged)  # ours, and valid: only its folder is wrong now
    os.chown(cache / "space-mirror", 65534, 65534)
    os.chown(cache, 65534, 65534)
    again = history(log, cache)
    assert not again.replayed and again.out == real.out and "SUCCESS" not in again.out


def test_a_stamp_line_reads_back_as_its_numbers(tmp_path: Path) -> None:
    """filestamp.fields is the one reader of stamp's line (the memo's growth checks the
    device, inode, size and mode with it): what stamp wrote, and None for the lines that
    stand for no stat."""
    path = tmp_path / "f"
    path.write_bytes(b"12345")
    st = os.stat(path)
    assert filestamp.fields(filestamp.stamp([path])) == (
        st.st_dev, st.st_ino, 5, st.st_mtime_ns, st.st_ctime_ns, st.st_mode)
    assert filestamp.fields(filestamp.stamp([tmp_path / "missing"])) is None
    assert filestamp.fields("!13") is None
    assert filestamp.fields("1 2 x 4 5 6") is None
