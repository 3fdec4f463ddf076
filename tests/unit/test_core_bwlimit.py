"""Bandwidth notation: the light checks, and rclone's core/bwlimit answers as text.
The answers below were recorded from rclone 1.75.2's rc over a unix socket."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from tui.config import Job
from tui.core.bwlimit import limit_text, rate_problem, rate_text, schedule_problem
from tui.ops import rc

RECORDED = {
    "4M": '{"bytesPerSecond": 4194304,"bytesPerSecondRx": 4194304,"bytesPerSecondTx": 4194304,'
          '"rate": "4Mi"}',
    "off": '{"bytesPerSecond": -1,"bytesPerSecondRx": -1,"bytesPerSecondTx": -1,"rate": "off"}',
    "10M:1M": '{"bytesPerSecond": 10485760,"bytesPerSecondRx": 1048576,'
              '"bytesPerSecondTx": 10485760,"rate": "10Mi:1Mi"}',
    "1.5M": '{"bytesPerSecond": 1572864,"bytesPerSecondRx": 1572864,'
            '"bytesPerSecondTx": 1572864,"rate": "1.500Mi"}',
}


@pytest.mark.parametrize(("rate", "text"), [
    ("4M", "4 MiB/s"), ("off", "off (no limit)"), ("10M:1M", "upload 10 MiB/s, download 1 MiB/s"),
    ("1.5M", "1.5 MiB/s"),
])
def test_limit_text_from_recorded_answers(rate: str, text: str) -> None:
    assert limit_text(json.loads(RECORDED[rate])) == text


def test_rate_text() -> None:
    assert rate_text(262144) == "256 KiB/s"
    assert rate_text(100) == "100 B/s"
    assert rate_text(-1) == "off"


# Accepted and refused by rclone 1.75.2's --bwlimit (tried one by one with `rclone lsf`).
@pytest.mark.parametrize("good", ["512k", "1.5M", "10Mi", "100", "off", "10M:1M", "512K", "1MiB"])
def test_rates_rclone_accepts(good: str) -> None:
    assert rate_problem(good) is None
    assert schedule_problem(good) is None


@pytest.mark.parametrize("good", ["08:00,512k 19:00,off", "Mon-08:00,512k Sat-00:00,off",
                                  "08:00,10M:1M  23:59,off"])
def test_timetables_rclone_accepts(good: str) -> None:
    assert schedule_problem(good) is None
    assert rate_problem(good) is not None  # core/bwlimit takes one rate, not a timetable


@pytest.mark.parametrize(("bad", "says"), [
    ("Mon,512k", "is not HH:MM,RATE"), ("25:00,1M", "no such time of day"),
    ("08:00,1X", "'1X' is not a rate"), ("1X", "is not HH:MM,RATE"), ("", "empty"),
])
def test_timetables_rclone_refuses(bad: str, says: str) -> None:
    problem = schedule_problem(bad)
    assert problem is not None and says in problem and "\n" not in problem


def test_rate_problem_is_one_line() -> None:
    assert rate_problem("fast") == ("bandwidth limit 'fast' is not a rate like 512k, 10M, 1.5M, "
                                    "10M:1M (upload:download) or off")


def test_socket_path_is_beside_the_lock() -> None:
    job = Job(name="photos", lock_file=Path("/run/space-mirror/photos.lock"))
    assert job.rc_socket_path == Path("/run/space-mirror/photos.rc.sock")


def _leave_a_socket(path: Path) -> None:
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()  # the file stays, as after a SIGKILLed rclone


def test_prepare_socket_removes_a_dead_runs_socket(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir(mode=0o700)
    job = Job(lock_file=folder / "t.lock")
    _leave_a_socket(job.rc_socket_path)
    path, problem = rc.prepare_socket(job)
    assert (path, problem) == (job.rc_socket_path, None)
    assert not job.rc_socket_path.exists()


def test_prepare_socket_never_narrows_a_folder_it_did_not_make(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    path, problem = rc.prepare_socket(Job(lock_file=folder / "t.lock"))
    assert path is None and problem is not None and f"chmod 700 {folder}" in problem
    assert oct(folder.stat().st_mode & 0o777) == oct(0o755)
    made = tmp_path / "new" / "run"
    assert rc.prepare_socket(Job(lock_file=made / "t.lock"))[1] is None
    assert oct(made.stat().st_mode & 0o777) == oct(0o700)  # what it makes is 0700


def test_prepare_socket_refuses_what_it_cannot_trust(tmp_path: Path) -> None:
    job = Job(lock_file=tmp_path / "t.lock")
    job.rc_socket_path.write_text("not a socket")
    assert rc.prepare_socket(job) == (None, f"{job.rc_socket_path} exists and is not a socket; "
                                            "remove it")
    deep = tmp_path / ("x" * 120)
    path, problem = rc.prepare_socket(Job(lock_file=deep / "t.lock"))
    assert path is None and problem is not None and "longer than a unix socket path" in problem
    assert not deep.exists()


def test_private_dir_problem_names_a_foreign_owner(tmp_path: Path) -> None:
    folder = tmp_path / "theirs"
    folder.mkdir()
    os.chown(folder, 65534, 65534)
    assert rc.private_dir_problem(folder) == f"{folder} belongs to uid 65534, not to us"
