"""Issue 22, item 8: counts that agree. rclone prints no final stats when it is stopped
(SIGINT/SIGTERM), so a run aborted before its first stats line (1 s) said `bytes=0
transfers=7`: the bytes now follow the files rclone reported copied. A real run of the
runner and rclone (local → local), aborted once 7 files are copied."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sm_testkit import write_toml

from tui.core.markers import MarkerKind, parse_marker

REPO = Path(__file__).resolve().parents[2]
SMALL = 7
SMALL_SIZE = 10_000


def test_an_aborted_runs_bytes_match_its_transfers(tmp_path: Path, cli_env: dict[str, str]) -> None:
    src = tmp_path / "src"
    (src / "a").mkdir(parents=True)
    for i in range(SMALL):
        (src / "a" / f"f{i}.bin").write_bytes(os.urandom(SMALL_SIZE))
    (src / "z-big.bin").write_bytes(os.urandom(20_000_000))  # 20 s at 1 MiB/s
    log = tmp_path / "log"
    config = write_toml(tmp_path / "config.toml", {"t": {
        "source": str(src), "destination": str(tmp_path / "dst"), "require_mount": False,
        "env_file": "", "log_file": str(log), "lock_file": str(tmp_path / "lock"),
        "metrics_file": str(tmp_path / "m.prom"), "summary_file": str(tmp_path / "s.json"),
        "flags": ["--transfers", "2"], "bwlimit": "1M"}})
    runner = subprocess.Popen([sys.executable, "-m", "tui", "--config", str(config), "run"],
                              env=cli_env, cwd=REPO, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 30
    while not (log.exists() and log.read_bytes().count(b'"msg":"Copied (new)"') >= SMALL):
        assert time.monotonic() < deadline and runner.poll() is None, "no 7 copies"
        time.sleep(0.01)
    runner.send_signal(signal.SIGTERM)
    out, err = runner.communicate(timeout=60)
    text = log.read_text()
    end = next(m for m in (parse_marker(ln) for ln in text.splitlines()) if m is not None
               and m.kind is not MarkerKind.START)
    assert end.kind is MarkerKind.ABORTED, (end, err)
    copied = [json.loads(ln) for ln in text.splitlines()
              if ln.startswith("{") and '"msg":"Copied (new)"' in ln]
    sent = sum(c["size"] for c in copied)
    transfers = int(end.fields["transfers"])
    assert transfers == len(copied) >= SMALL, end.fields
    assert int(end.fields["bytes"]) >= sent > 0, (end.fields, out)
