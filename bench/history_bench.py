"""History scan speed on a 1 GB legacy-format log, against `grep -c` on the same file.

    .venv/bin/python -m bench.history_bench [--size-mb 1024] [--keep]

Measures (best of 3, file in the page cache):
* grep:  `grep -c 'Starting Space Mirror' LOG`                        (the baseline)
* cold:  `space-mirror --log LOG history --json` with an empty cache   (target ≤ 4× grep)
* incremental: the same after appending one more ~1 MB night           (target ≤ 5% of cold)
  — end to end (a new process each time) and in-process (scan_history only: the part the
  cache can save; a Python process alone costs ~0.1 s here).
The generated log is deleted afterwards unless --keep.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import DATA
from bench.gen_legacy_log import generate, one_run, record

SPACE_MIRROR = str(Path(sys.executable).parent / "space-mirror")


def _time(argv: list[str], env: dict[str, str] | None = None) -> float:
    t = time.perf_counter()
    # grep stops at its first match when its output is /dev/null: use a pipe.
    subprocess.run(argv, stdout=subprocess.PIPE, check=True, env=env)
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--keep", action="store_true")
    ns = ap.parse_args(argv)
    tpl = record(DATA / "legacy-recording")
    log = DATA / "legacy-1g.log"
    if not log.exists() or abs(log.stat().st_size - ns.size_mb * 2**20) > 4 * 2**20:
        generate(log, ns.size_mb * 2**20, tpl)
    cache = Path(tempfile.mkdtemp(prefix="sm-bench-cache-"))
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    cmd = [SPACE_MIRROR, "--log", str(log), "--no-require-mount", "history", "--json"]
    try:
        _time(["cat", str(log)])  # into the page cache
        grep = min(_time(["grep", "-c", "Starting Space Mirror", str(log)]) for _ in range(3))
        colds = []
        for _ in range(3):
            shutil.rmtree(cache, ignore_errors=True)
            colds.append(_time(cmd, env))
        cold = min(colds)
        from tui.core.history import scan_history

        shutil.rmtree(cache, ignore_errors=True)
        t = time.perf_counter()
        scan_history(log, cache_dir=cache / "space-mirror")
        cold_in = time.perf_counter() - t
        incs, incs_in = [], []
        for night in range(3):
            with log.open("a") as fh:
                fh.write(one_run(tpl, 5000 + night, datetime(2019, 1, 1, 3, tzinfo=UTC)))
            _time(cmd, env)  # nothing to compare with yet: warm both paths equally
            with log.open("a") as fh:
                fh.write(one_run(tpl, 6000 + night, datetime(2019, 1, 1, 3, tzinfo=UTC)))
            incs.append(_time(cmd, env))
            with log.open("a") as fh:
                fh.write(one_run(tpl, 7000 + night, datetime(2019, 1, 1, 3, tzinfo=UTC)))
            t = time.perf_counter()
            scan_history(log, cache_dir=cache / "space-mirror")
            incs_in.append(time.perf_counter() - t)
        inc, inc_in = min(incs), min(incs_in)
        size = log.stat().st_size
        print(f"log: {size / 2**30:.2f} GiB")
        print(f"grep -c                      {grep:7.3f} s")
        print(f"history --json, cold         {cold:7.3f} s   {cold / grep:5.2f}× grep  "
              "(target ≤ 4×)")
        print(f"history --json, +1 MB        {inc:7.3f} s   {100 * inc / cold:5.1f}% of cold "
              "(target ≤ 5%; includes process start)")
        print(f"scan_history, cold           {cold_in:7.3f} s")
        print(f"scan_history, +1 MB          {inc_in:7.3f} s   "
              f"{100 * inc_in / cold_in:5.1f}% of cold")
    finally:
        shutil.rmtree(cache, ignore_errors=True)
        if not ns.keep:
            log.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
