"""A log folder's contents are data (issue 20 row 6): whatever another user leaves beside
the log, `history` finishes, with a warning, in bounded memory.

Each hostile file is made by `nobody` in a folder it may write to (a log folder shared with
a group, or a misconfigured 0777 one), as an attacker or a broken tool would leave it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.history.peak import peak_rss
from tests.security.conftest import SYSTEM_PYTHON, as_nobody, python_cli

MIXED = Path(__file__).resolve().parents[1] / "fixtures" / "history" / "mixed.log"
RUNNER = Path(__file__).resolve().parents[1] / "fixtures" / "runner.log"


@pytest.fixture
def log_dir(open_folder) -> Path:
    folder = open_folder("logs", 0o777)
    log = folder / "space-mirror.log"
    shutil.copyfile(MIXED, log)  # root's own log, with real runs
    log.chmod(0o644)
    return folder


def _history(log: Path, env: dict[str, str], timeout: float = 60) -> dict[str, object]:
    proc = subprocess.run([*python_cli(), "history", "--json", "--log", str(log)], env=env,
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    data: dict[str, object] = json.loads(proc.stdout)
    return data


def _warnings(data: dict[str, object]) -> list[str]:
    found = data["warnings"]
    assert isinstance(found, list)
    return [str(w) for w in found]


def test_a_fifo_named_like_a_rotation_hangs_nothing(log_dir: Path,
                                                    cli_env: dict[str, str]) -> None:
    # The old reader opened it blocking: `history` waited for a writer forever.
    made = as_nobody("mkfifo", str(log_dir / "space-mirror.log.1"))
    assert made.returncode == 0, made.stderr
    data = _history(log_dir / "space-mirror.log", cli_env, timeout=30)
    assert len(data["runs"]) == 14  # type: ignore[arg-type]
    assert any("space-mirror.log.1" in w and "not a regular file" in w
               for w in _warnings(data))


def test_a_huge_rotation_number_is_not_walked(log_dir: Path, cli_env: dict[str, str]) -> None:
    # The old search walked 3,000,000 missing numbers (28 s, a warning for each).
    made = as_nobody("touch", str(log_dir / "space-mirror.log.3000000"))
    assert made.returncode == 0, made.stderr
    data = _history(log_dir / "space-mirror.log", cli_env)
    warnings = _warnings(data)
    assert len(warnings) < 10, warnings[:5]
    assert any("numbered over 1000 not read" in w for w in warnings)
    assert len(data["runs"]) == 14  # type: ignore[arg-type]


BOMB = r"""
import sys, zlib
z = zlib.compressobj(1, zlib.DEFLATED, 31)
zeros = bytes(1 << 24)
with open(sys.argv[1], "wb") as fh:
    for _ in range(int(sys.argv[2])):
        fh.write(z.compress(zeros))
    fh.write(z.flush())
"""


def test_a_gzip_bomb_is_cut_at_its_cap(log_dir: Path, cli_env: dict[str, str]) -> None:
    # 1 GiB of zeros in ~1 MB. The old reader inflated it whole into memory (twice: the
    # pieces and their join), ~2 GiB of peak RSS.
    bomb = log_dir / "space-mirror.log.1.gz"
    made = as_nobody(SYSTEM_PYTHON, "-c", BOMB, str(bomb), "64", timeout=120)
    assert made.returncode == 0, made.stderr
    assert bomb.stat().st_size < 8 * 2**20
    peak = peak_rss([*python_cli(), "history", "--json", "--log",
                     str(log_dir / "space-mirror.log")], cli_env)
    assert peak.rc == 0, peak.stderr
    data = json.loads(peak.stdout)
    assert any("decompression bomb" in w for w in _warnings(data))
    assert len(data["runs"]) == 14
    assert peak.peak_mb < 150, f"peak RSS {peak.peak_mb:.0f} MB"


DEEP = r"""
import sys
marker = open(sys.argv[2], encoding="utf-8").read().splitlines()
deep = '{"level":"error","msg":"x","object":"a.txt","extra":' + "[" * 200000 + "]" * 200000 + "}"
with open(sys.argv[1], "w", encoding="utf-8") as fh:
    end = next(line for line in marker if "Space Mirror Complete" in line)
    fh.write(marker[0] + "\n" + deep + "\n" + end + "\n")
"""


def test_a_deeply_nested_json_line_is_junk_not_a_crash(log_dir: Path,
                                                       cli_env: dict[str, str]) -> None:
    # json.loads recursed until RecursionError: `history` exited 70 (a traceback), and the
    # dashboard stayed at READING LOG.
    runner = log_dir / "runner-run.log"
    shutil.copyfile(RUNNER, runner)
    runner.chmod(0o644)
    made = as_nobody(SYSTEM_PYTHON, "-c", DEEP, str(log_dir / "space-mirror.log.1"),
                     str(runner))
    assert made.returncode == 0, made.stderr
    data = _history(log_dir / "space-mirror.log", cli_env)
    runs = data["runs"]
    assert isinstance(runs, list)
    assert len(runs) == 15
    first = runs[0]
    assert (first["id"], first["outcome"], first["transfers"]) == \
        ("20261125T145106-3004", "success", 4)
