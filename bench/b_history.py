"""history-cold, history-rotated and history-incremental.

history-cold: `space-mirror history --json` on a big legacy-format log (the wrapper's
markers, text rclone lines with stats blocks, some failures), no cache. Baseline:
`grep -c 'Starting Space Mirror'` on the same file. Both with the page cache warm. Target ≤ 4×.
history-rotated: the same log split into FILE, FILE.1 … FILE.N.gz, no cache (reported).
history-incremental: one more night (~1 MB) appended, cache warm. Target ≤ 5% of cold.
"""

from __future__ import annotations

import gzip
import itertools
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import gen_legacy_log
from bench.common import DATA, Result, best_of, python, time_command


def _history_argv(log: Path) -> list[str]:
    return [python(), "-m", "tui", "history", "--json", "--log", str(log)]


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
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as cache:
        t = time.perf_counter()
        scan_history(grown, cache_dir=Path(cache))
        cold = time.perf_counter() - t
        night = gen_legacy_log.one_run(tpl, 200_000, datetime(2031, 1, 1, 3, tzinfo=UTC))
        with open(grown, "a", encoding="utf-8") as fh:
            fh.write(night)
        t = time.perf_counter()
        scan_history(grown, cache_dir=Path(cache))
        incremental = time.perf_counter() - t
    shutil.rmtree(work, ignore_errors=True)
    return Result("history-incremental-scan", incremental, cold, 0.05, "s", "le",
                  note="scan_history in-process, +1 night; baseline = its cold scan")


def run(quick: bool) -> list[Result]:
    size_mb = 32 if quick else 1024
    runs = 1 if quick else 3
    log, tpl = make_log(size_mb)
    _warm_page_cache(log)
    grep = best_of(runs, lambda: time_command(["grep", "-c", "Starting Space Mirror", str(log)]))
    cold = best_of(runs, lambda: _cold(log))
    results = [Result("history-cold", cold, grep, 4.0, "s", "le", note=f"{size_mb} MB log")]

    rotated = _rotate(log, 8)
    for p in rotated.parent.iterdir():
        _warm_page_cache(p)
    rot = best_of(runs, lambda: _cold(rotated))
    results.append(Result("history-rotated", rot, grep, 4.0, "s", "le",
                          note="8 files, .2–.7 gzipped; baseline grep on the plain log"))

    # Incremental: warm the cache, append one more night, time the second look.
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as cache:
        work = log.parent.parent / (log.parent.name + "-incremental")
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        grown = work / log.name
        shutil.copyfile(log, grown)
        time_command(_history_argv(grown), env=_env(Path(cache)))
        night = gen_legacy_log.one_run(tpl, 100_000, datetime(2030, 1, 1, 3, tzinfo=UTC))
        with open(grown, "a", encoding="utf-8") as fh:
            fh.write(night)
        incremental = time_command(_history_argv(grown), env=_env(Path(cache)))
        shutil.rmtree(work, ignore_errors=True)
    results.append(Result("history-incremental", incremental, cold, 0.05, "s", "le",
                          note=f"+{len(night.encode()) / 2**20:.1f} MB appended; baseline = cold;"
                               " includes the process start"))
    results.append(_scan_in_process(log, tpl))
    shutil.rmtree(rotated.parent, ignore_errors=True)
    return results
