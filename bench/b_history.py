"""history-cold, history-rotated and history-incremental, on three history shapes.

Shapes: `legacy` is the 1 GiB legacy-format log of ~940 nights of ~1.1 MB each
(gen_legacy_log); `tailed-text` and `tailed-json` are ~300 MB of 1,235 nights whose sizes
are heavy-tailed as real nights are (gen_tailed_log: most under 50 KB, three full
re-syncs of ~95 MB), as the legacy wrapper (text) and our runner (JSON) write them.

history-cold: `space-mirror history --json`, no cache, vs `grep -c 'Starting Space Mirror'`
on the same file, page cache warm. Target ≤ 4× (stretch 3×).
history-rotated: the log split into FILE, FILE.1, FILE.2.gz … FILE.7.gz, no cache, vs
`zgrep -c` over the same files. Target ≤ 1.5×.
history-unchanged: `history --json` again, nothing changed, cache warm, vs
`space-mirror --version`. Target ≤ 1.5× (the cache holds the assembled runs).
history-incremental: one more night appended, cache warm, vs `space-mirror --version`.
Target ≤ 2×. history-incremental-table: the same for the table (`history`), heavy-tailed
text log.
history-incremental-scan: `scan_history` in-process after one more night, vs its cold scan, in
CPU seconds (the cold scan's forked parts included). Target ≤ 5 %.
history-cold-tailed-*-s7: the heavy-tailed shapes again with another seed and a heavier
tail (sigma 2.2): the ratio must not depend on one generator's draw.
history-memory: peak RSS of a cold `history --json` on the 1 GiB log vs on its first
10 MB. Target ≤ 1.2× (and ≤ 80 MB; the figure is in the note).
replay-last-run: the dashboard on a log whose last run is 58 MB: process start until it
shows that run's final figures, vs the 1 s budget. Target ≤ 1×.
"""

from __future__ import annotations

import gzip
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import gen_legacy_log, gen_tailed_log
from bench.common import (
    DATA,
    Result,
    best_of,
    best_of_pair,
    python,
    time_command,
    timed_in_turns,
)


def _history_argv(log: Path, fmt: tuple[str, ...] = ("--json",)) -> list[str]:
    return [python(), "-m", "tui", "history", *fmt, "--log", str(log)]


def _env(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPACE_MIRROR_")}
    env["XDG_CACHE_HOME"] = str(cache)
    return env


def _cold(log: Path) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as cache:
        return time_command(_history_argv(log), env=_env(Path(cache)))


def _warm_page_cache(path: Path) -> None:
    with open(path, "rb") as fh:
        while fh.read(1 << 24):
            pass


def make_log(size_mb: int) -> tuple[Path, gen_legacy_log.Templates]:
    tpl = gen_legacy_log.record(DATA / "legacy-recording")
    log = DATA / f"legacy-{size_mb}m" / "space-mirror.log"
    if not log.exists() or abs(log.stat().st_size - size_mb * 2**20) > 4 * 2**20:
        shutil.rmtree(log.parent, ignore_errors=True)
        gen_legacy_log.generate(log, size_mb * 2**20, tpl)
    return log, tpl


def _rotate(log: Path, parts: int) -> Path:
    """Split `log` at run boundaries into FILE.N.gz … FILE.2.gz, FILE.1, FILE."""
    out_dir = log.parent.parent / (log.parent.name + "-rotated")
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    data = log.read_bytes()
    step = len(data) // parts
    cuts = [0]
    for i in range(1, parts):
        at = data.find(b"] Starting Space Mirror", i * step)
        at = data.rfind(b"\n", 0, at) + 1
        cuts.append(at)
    cuts.append(len(data))
    pieces = [data[a:b] for a, b in itertools.pairwise(cuts)]
    target = out_dir / log.name
    for age, piece in enumerate(reversed(pieces)):  # age 0 is the newest
        if age == 0:
            target.write_bytes(piece)
        elif age == 1:
            Path(f"{target}.1").write_bytes(piece)
        else:
            with gzip.open(f"{target}.{age}.gz", "wb", compresslevel=1) as gz:
                gz.write(piece)
    return target


def _scan_in_process(log: Path, tpl: gen_legacy_log.Templates) -> Result:
    """The part the cache can save: scan_history itself, without a process start."""
    from tui.core.history import scan_history

    work = log.parent.parent / (log.parent.name + "-scan")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    grown = work / log.name
    shutil.copyfile(log, grown)
    colds: list[float] = []
    for _ in range(2):
        with tempfile.TemporaryDirectory(prefix="bench-cache-") as cache:
            t = _cpu()
            scan_history(grown, cache_dir=Path(cache))
            colds.append(_cpu() - t)
    took: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as cache:
        scan_history(grown, cache_dir=Path(cache))
        for n in range(3):  # a night appended, scanned; three times, the least disturbed kept
            night = gen_legacy_log.one_run(tpl, 200_000 + n,
                                           datetime(2031, 1, 1 + n, 3, tzinfo=UTC))
            with open(grown, "a", encoding="utf-8") as fh:
                fh.write(night)
            t = _cpu()
            scan_history(grown, cache_dir=Path(cache))
            took.append(_cpu() - t)
    shutil.rmtree(work, ignore_errors=True)
    return Result("history-incremental-scan", min(took), min(colds), 0.05, "s", "le",
                  note="scan_history in-process, +1 night (best of 3); baseline = its cold "
                       "scan (best of 2); CPU seconds, its forked parts' included")


def _cpu() -> float:
    """CPU seconds of this process and of its children waited for: what the incremental
    scan saves is work, and a cold scan splits its work across cores (history/split.py)."""
    t = os.times()  # children's in clock ticks; this process's to the nanosecond
    return time.process_time() + t.children_user + t.children_system


def _incremental(log: Path, night: bytes,
                 fmt: tuple[str, ...] = ("--json",)) -> tuple[float, float, float, float]:
    """`history --json` (or `history FMT`) again with nothing changed, then after `night`
    is appended, the cache warm from a first run; each of the two five times, and
    `--version` in turns with them (the load on this shared VM moves within a minute: the
    baseline is taken alongside, as often). The fastest of each: unchanged, appended, and
    `--version`'s beside each."""
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as cache:
        work = log.parent.parent / (log.parent.name + "-incremental")
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        grown = work / log.name
        shutil.copyfile(log, grown)
        env = _env(Path(cache))
        argv = _history_argv(grown, fmt)
        time_command(argv, env=env)

        def version() -> float:
            return time_command([python(), "-m", "tui", "--version"])

        def appended() -> float:
            with open(grown, "ab") as fh:
                fh.write(night)
            return time_command(argv, env=env)

        unchanged, base = timed_in_turns(5, lambda: time_command(argv, env=env), version)
        took, base_after = timed_in_turns(5, appended, version)
        shutil.rmtree(work, ignore_errors=True)
    return min(unchanged), min(took), min(base), min(base_after)


def _cold_only(name: str, log: Path, runs: int) -> Result:
    _warm_page_cache(log)
    cold, grep = best_of_pair(
        runs, lambda: _cold(log),
        lambda: time_command(["grep", "-c", "Starting Space Mirror", str(log)]))
    mb = log.stat().st_size // 2**20
    return Result(f"history-cold-{name}", cold, grep, 4.0, "s", "le",
                  note=f"{mb} MB; baseline grep -c; best of {runs} each, in turns")


def shape(name: str, log: Path, night: bytes, runs: int) -> list[Result]:
    """cold, rotated, unchanged and incremental figures for one history shape."""
    results = [_cold_only(name, log, runs)]
    results[0].note += "; stretch 3×"
    rotated = _rotate(log, 8)
    files = sorted(str(p) for p in rotated.parent.iterdir())
    for p in files:
        _warm_page_cache(Path(p))
    rot, zgrep = best_of_pair(
        runs, lambda: _cold(rotated),
        lambda: time_command(["zgrep", "-c", "Starting Space Mirror", *files]))
    results.append(Result(f"history-rotated-{name}", rot, zgrep, 1.5, "s", "le",
                          note="8 files, .2–.7 gzipped; baseline zgrep -c over the same files"))
    shutil.rmtree(rotated.parent, ignore_errors=True)
    unchanged, incremental, version, version_beside = _incremental(log, night)
    results.append(Result(f"history-unchanged-{name}", unchanged, version, 1.5, "s", "le",
                          note="cache warm, nothing changed; baseline --version; best of 5 "
                               "each, in turns"))
    results.append(Result(f"history-incremental-{name}", incremental, version_beside, 2.0, "s",
                          "le", note=f"+{len(night) / 2**10:.0f} KiB; baseline --version; "
                                     "best of 5 each, in turns"))
    return results


_PEAK = r"""
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
"""


def _peak_mb(argv: list[str], env: dict[str, str]) -> float:
    """Peak RSS of `argv`, from a fresh parent that runs nothing else."""
    out = subprocess.run([python(), "-c", _PEAK, *argv], env=env, capture_output=True,
                         text=True, check=True, timeout=600)
    return float(out.stdout.strip())


def memory(log: Path) -> Result:
    small = log.parent.parent / "legacy-10m" / log.name
    if not small.exists():
        small.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "rb") as fh:
            head = fh.read(10 * 2**20)
        small.write_bytes(head[:head.rfind(b"\n[", 0, head.rfind(b"Starting Space")) + 1])
    peaks = []
    for path in (small, log):
        with tempfile.TemporaryDirectory(prefix="bench-cache-") as cache:
            peaks.append(_peak_mb(_history_argv(path), _env(Path(cache))))
    return Result("history-memory", peaks[1], peaks[0], 1.2, "MB", "le",
                  note=f"peak RSS, cold history --json, {log.stat().st_size // 2**20} MB vs "
                       f"10 MB; target also ≤ 80 MB")


def replay(tpl: gen_legacy_log.Templates) -> Result:
    """The dashboard on a log whose last run is 58 MB (a full re-sync), history cache warm:
    process start until the run's final figures are on screen."""
    base = DATA / "replay-58m"
    log = base / "space-mirror.log"
    if not log.exists():
        base.mkdir(parents=True, exist_ok=True)
        with open(log, "w", encoding="utf-8") as fh:
            for n in range(30):
                fh.write(gen_legacy_log.one_run(tpl, n, datetime(2030, 1, 1, 3, tzinfo=UTC),
                                                20_000))
            fh.write(gen_legacy_log.one_run(tpl, 31, datetime(2030, 1, 1, 3, tzinfo=UTC),
                                            58 * 2**20))
    from bench.b_startup import config_for

    config = config_for(log)
    _warm_page_cache(log)
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as cache:
        env = _env(Path(cache))

        def once() -> float:
            out = subprocess.run([python(), "-m", "bench.dashboard_probe", "final", str(config),
                                  repr(time.time())], env=env, capture_output=True, text=True,
                                 check=True, timeout=300)
            return float(json.loads(out.stdout.strip().splitlines()[-1])["seconds"])

        once()
        took = best_of(3, once)
    return Result("replay-last-run", took, 1.0, 1.0, "s", "le",
                  note=f"{log.stat().st_size // 2**20} MB log, last run 58 MB; "
                       "baseline the 1 s budget")


def tailed_log(fmt: str, quick: bool, seed: int = 12, sigma: float = 1.6) -> Path:
    size_mb, nights = (30, 124) if quick else (300, gen_tailed_log.NIGHTS)
    tag = "" if seed == 12 else f"-s{seed}"
    log = DATA / f"tailed-{fmt}-{size_mb}m{tag}" / "space-mirror.log"
    if not log.exists() or abs(log.stat().st_size - size_mb * 2**20) > 8 * 2**20:
        shutil.rmtree(log.parent, ignore_errors=True)
        gen_tailed_log.generate(log, size_mb * 2**20, fmt, nights, seed, sigma)
    return log


def run(quick: bool) -> list[Result]:
    size_mb = 32 if quick else 1024
    runs = 1 if quick else 5
    log, tpl = make_log(size_mb)
    legacy_night = gen_legacy_log.one_run(tpl, 100_000, datetime(2030, 1, 1, 3, tzinfo=UTC))
    results = shape("legacy", log, legacy_night.encode(), runs)
    results.append(_scan_in_process(log, tpl))
    small = gen_legacy_log.one_run(tpl, 100_001, datetime(2030, 1, 1, 3, tzinfo=UTC), 8_000)
    for fmt in ("text", "json"):
        tailed = tailed_log(fmt, quick)
        tail = tailed.read_bytes()[-200_000:]
        night = small.encode() if fmt == "text" else \
            tail[tail.rfind(b"\n[", 0, tail.rfind(b"Starting Space Mirror")) + 1:]
        results.extend(shape(f"tailed-{fmt}", tailed, night, runs))
        if fmt == "text":  # the table (`history` without --json) grows its memo too
            _, table, _, base = _incremental(tailed, night, ())
            results.append(Result("history-incremental-table", table, base, 2.0, "s", "le",
                                  note=f"`history`, +{len(night) / 2**10:.0f} KiB; "
                                       "baseline --version"))
        # Another draw, with a heavier tail: the ratio must not hang on one seed.
        other = tailed_log(fmt, quick, seed=7, sigma=2.2)
        results.append(_cold_only(f"tailed-{fmt}-s7", other, runs))
        results[-1].note += "; seed 7, sigma 2.2"
    if not quick:
        results.append(memory(log))
        results.append(replay(tpl))
    return results
