"""The live path: ingest, watch-overhead and memory.

ingest: a recorded real rclone JSON log, scaled to 120k lines, written into a job's log
  while the real dashboard (headless, App.run_test) follows it: follower → parser → reducer
  → widgets. Baseline: the rate real rclone emits these lines, measured in the same run
  from a sync of many tiny files. Target ≥ 5×. Also the p99 latency from a line written to
  the dashboard having it, with lines written at 5× rclone's rate. Target < 250 ms.
watch-overhead: a real sync of 20k tiny files local→local by `space-mirror run`, alone and
  with the dashboard attached (a separate headless process). Target ≤ 1.10×.
memory: peak RSS of the dashboard following a 1M-line run, against a 100k-line run.
  Target ≤ 1.2×.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench import gen_json_log
from bench.common import DATA, Result, python, tmpfs

UI_HANDLED_PAUSE = 0.005


def write_config(base: Path, src: Path, log: Path, flags: list[str]) -> Path:
    base.mkdir(parents=True, exist_ok=True)
    flag_list = ", ".join(f'"{f}"' for f in flags)
    config = base / "job.toml"
    config.write_text(f"""
[jobs.bench]
source = "{src}"
destination = "{base / 'dst'}"
flags = [{flag_list}]
log_file = "{log}"
lock_file = "{base / 'lock'}"
metrics_file = "{base / 'metrics.prom'}"
summary_file = "{base / 'summary.json'}"
require_mount = false
""")
    return config


# -- ingest --------------------------------------------------------------------------------
async def _ingest(config: Path, log: Path, lines: list[bytes], paced_rates: list[float]
                  ) -> tuple[float, list[list[float]]]:
    from tui.app.app import MirrorApp
    from tui.config import Overrides, load_job
    from tui.core.runstate import Phase

    job = load_job(config, None, Overrides())
    app = MirrorApp(job, ["--config", str(config)], hostname="bench")
    total = len(lines)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)

        # 1. Throughput: everything at once, as fast as the disk takes it.
        def dump() -> None:
            with open(log, "ab") as fh:
                for i in range(0, total, 5000):
                    fh.write(b"".join(lines[i:i + 5000]))

        t0 = time.perf_counter()
        writer = threading.Thread(target=dump)
        writer.start()
        while not (app.run_state.phase is Phase.ENDED and app.run_state.lines >= total):
            await pilot.pause(UI_HANDLED_PAUSE)
        elapsed = time.perf_counter() - t0
        writer.join()

        # 2. Latency: more runs written at a steady pace, in 20 ms chunks.
        all_latencies = [await _paced(pilot, app, log, lines, rate) for rate in paced_rates]
    return total / elapsed, all_latencies


async def _paced(pilot: Any, app: Any, log: Path, lines: list[bytes], paced_rate: float
                 ) -> list[float]:
    from tui.core.runstate import Phase

    total = len(lines)
    chunk = max(1, int(paced_rate * 0.02))
    written_at: list[tuple[int, float]] = []

    def paced() -> None:
        with open(log, "ab", buffering=0) as fh:
            next_at = time.perf_counter()
            for i in range(0, total, chunk):
                fh.write(b"".join(lines[i:i + chunk]))
                written_at.append((min(total, i + chunk), time.perf_counter()))
                next_at += 0.02
                time.sleep(max(0.0, next_at - time.perf_counter()))

    # The previous run has ended: lines of this one count from its start marker.
    before = app.run_state.started
    writer = threading.Thread(target=paced)
    writer.start()
    latencies: list[float] = []
    done = 0
    while done < total:
        await pilot.pause(UI_HANDLED_PAUSE)
        state = app.run_state
        fresh = state.started is not before and state.phase is not Phase.IDLE
        shown = state.lines if fresh else 0
        now = time.perf_counter()
        for count, at in written_at[len(latencies):]:
            if shown >= count:
                latencies.append(now - at)
                done = count
            else:
                break
    writer.join()
    return latencies


def ingest(quick: bool) -> list[Result]:
    n_files = 3000 if quick else 20000
    with tmpfs(DATA / "ingest-recording") as on_tmpfs:  # rclone's rate, free of disk noise
        rec = gen_json_log.record(n_files, DATA / "ingest-recording")
        kept = DATA / "ingest" / "rclone.jsonl"
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(rec.log, kept)
        rec = gen_json_log.Recording(kept, rec.lines, rec.seconds)
    total = 20_000 if quick else 120_000
    scaled = gen_json_log.scale(rec.log, total - 2, DATA / "ingest" / "scaled.jsonl")
    lines = scaled.read_bytes().splitlines(keepends=True)
    base = DATA / "ingest" / "job"
    shutil.rmtree(base, ignore_errors=True)
    log = base / "log"
    config = write_config(base, base / "src", log, [])
    log.write_bytes(b"")
    rate, (at_1x, at_5x) = asyncio.run(_ingest(config, log, lines, [rec.rate, 5 * rec.rate]))
    return [
        Result("ingest", rate, rec.rate, 5.0, "lines/s", "ge",
               note=f"{len(lines)} lines; rclone's rate from {rec.lines} real lines"
                    f"{' on tmpfs' if on_tmpfs else ''}"),
        Result("ingest-p99-latency", _p99(at_1x) * 1000, 250.0, 1.0, "ms", "le",
               note=f"at rclone's rate ({rec.rate:.0f} lines/s), {len(at_1x)} chunks of 20 ms"),
        Result("ingest-p99-latency-5x", _p99(at_5x) * 1000, 250.0, 1.0, "ms", "le",
               note=f"at 5x rclone's rate ({5 * rec.rate:.0f} lines/s), {len(at_5x)} chunks",
               informational=True),
    ]


def _p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98] if len(samples) >= 100 else max(samples)


# -- watch-overhead --------------------------------------------------------------------------
def _timed_run(config: Path, dst: Path) -> float:
    shutil.rmtree(dst, ignore_errors=True)
    start = time.perf_counter()
    subprocess.run([python(), "-m", "tui", "--config", str(config), "run", "--offline"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _timed_run_watched(config: Path, dst: Path) -> float:
    ready = config.parent / "ready"
    ready.unlink(missing_ok=True)
    watcher = subprocess.Popen([python(), "-m", "bench.headless", str(config), "--ready",
                                str(ready)], stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not ready.exists():
        if time.monotonic() > deadline or watcher.poll() is not None:
            raise RuntimeError("the headless dashboard did not start")
        time.sleep(0.02)
    try:
        return _timed_run(config, dst)
    finally:
        watcher.wait(120)


def watch_overhead(quick: bool) -> list[Result]:
    n_files = 3000 if quick else 20000
    work = DATA / f"watch-{n_files}"
    # On tmpfs: the comparison is about the CPU the dashboard takes, not the disk's moods.
    with tmpfs(work) as on_tmpfs:
        src = work / "src"
        gen_json_log.make_tiny_tree(src, n_files)
        log = work / "job" / "log"
        config = write_config(work / "job", src, log, ["--transfers", "16"])
        dst = work / "job" / "dst"
        alone: list[float] = []
        watched: list[float] = []
        for _ in range(1 if quick else 5):  # interleaved, so drift hits both alike
            log.unlink(missing_ok=True)
            alone.append(_timed_run(config, dst))
            log.unlink(missing_ok=True)
            watched.append(_timed_run_watched(config, dst))
    a, w = statistics.median(alone), statistics.median(watched)
    where = "tmpfs" if on_tmpfs else "disk (could not mount a tmpfs)"
    return [Result("watch-overhead", w, a, 1.10, "s", "le",
                   note=f"{n_files} tiny files on {where}; medians of {len(alone)} "
                        f"(alone {', '.join(f'{x:.2f}' for x in alone)}; "
                        f"watched {', '.join(f'{x:.2f}' for x in watched)})")]


# -- memory ----------------------------------------------------------------------------------
def _peak_rss(lines: int, rec_log: Path) -> float:
    work = DATA / f"memory-{lines}"
    shutil.rmtree(work, ignore_errors=True)
    log = work / "log"
    gen_json_log.scale(rec_log, lines - 2, log)
    config = write_config(work, work / "src", log, [])
    out = subprocess.run([python(), "-m", "bench.headless", str(config), "--timeout", "900"],
                         capture_output=True, text=True, check=True)
    data = json.loads(out.stdout.strip().splitlines()[-1])
    shutil.rmtree(work, ignore_errors=True)
    if data["lines"] < lines:
        raise RuntimeError(f"the dashboard saw {data['lines']} of {lines} lines")
    return float(data["peak_rss_mb"])


def memory(quick: bool) -> list[Result]:
    rec = gen_json_log.record(3000)
    small, big = (10_000, 100_000) if quick else (100_000, 1_000_000)
    small_mb = _peak_rss(small, rec.log)
    big_mb = _peak_rss(big, rec.log)
    return [Result("memory", big_mb, small_mb, 1.2, "MB", "le",
                   note=f"peak RSS following {big} lines vs {small} lines")]


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "ingest"
    quick = "--quick" in sys.argv
    for r in {"ingest": ingest, "watch": watch_overhead, "memory": memory}[which](quick):
        print(r.row())
    os._exit(0)
