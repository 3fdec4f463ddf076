"""A legacy-format log of years of nightly runs, scaled up from real wrapper output.

`record(base)` runs the seed's wrapper (tests/fixtures/legacy_wrapper.sh) with the real
rclone over a generated tree, once successfully and once against a missing source, and keeps
those text logs as templates. `generate(out, size)` then writes nightly runs, one day apart,
until the file reaches `size` bytes: each run is the recorded success with its per-file lines
repeated under new names (about 1 MB a night, with a stats block every few thousand lines as
rclone prints every minute), and every 25th night is the recorded failure. Markers keep the
wrapper's `$(date)` form and rclone's lines keep their own timestamps (rewritten per night).

    .venv/bin/python -m bench.gen_legacy_log [--size-mb 1024] [--out bench/data/legacy-1g.log]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from bench.common import DATA

REPO = Path(__file__).resolve().parents[1]
WRAPPER = REPO / "tests" / "fixtures" / "legacy_wrapper.sh"
RUN_BYTES = 1_000_000
T = TypeVar("T", str, bytes)


@dataclass
class Templates:
    head: list[str]  # lines before the first "Copied"
    copied: list[str]  # per-file lines
    tail: list[str]  # the final stats block and what follows, up to the end marker
    failed: list[str]  # a whole failed run, markers included


def _wrapper(source: Path, dest: Path, log: Path) -> int:
    rclone = str(Path(sys.executable).parent / "rclone")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RCLONE_", "B2_"))}
    env.update({"SOURCE": str(source), "DEST": str(dest), "LOG_FILE": str(log),
                "RCLONE": rclone, "RCLONE_CONFIG": "/dev/null",
                "B2_APPLICATION_KEY_ID": "unused", "B2_APPLICATION_KEY": "unused",
                "RCLONE_RETRIES": "1"})
    return subprocess.run(["bash", str(WRAPPER)], env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, check=False).returncode


def photo_tree(base: Path, files: int) -> tuple[Path, Path]:
    """A source tree of small photos under `base` (and where its mirror goes)."""
    base.mkdir(parents=True, exist_ok=True)
    src, dst = base / "src", base / "dst"
    for i in range(files):
        p = src / f"photos/{2015 + i % 10}/album-{i % 37:02d}/IMG_{i:05d}.jpg"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(os.urandom(64 + i % 200))
    return src, dst


def record(base: Path, files: int = 400) -> Templates:
    src, dst = photo_tree(base, files)
    ok_log, bad_log = base / "ok.log", base / "bad.log"
    for p in (ok_log, bad_log):
        p.unlink(missing_ok=True)
    if _wrapper(src, dst, ok_log) != 0:
        raise SystemExit("bench: the recording run failed")
    if _wrapper(base / "missing", dst, bad_log) != 3:
        raise SystemExit("bench: the failing recording did not exit 3")
    lines = ok_log.read_text().splitlines(keepends=True)
    first = next(i for i, ln in enumerate(lines) if "Copied (" in ln)
    last = max(i for i, ln in enumerate(lines) if "Copied (" in ln)
    copied = [ln for ln in lines[first:last + 1] if ": Copied (" in ln]
    return Templates(head=lines[:first], copied=copied, tail=lines[last + 1:],
                     failed=bad_log.read_text().splitlines(keepends=True))


def _retime(line: str, stamp: str, date_out: str) -> str:
    if line[:4].isdigit() and line[4:5] == "/":
        return stamp + line[19:]
    if line.startswith("[") and "Space Mirror" in line:
        return f"[{date_out}]" + line[line.index("]") + 1:]
    return line


def _date_output(t: datetime) -> str:
    return t.strftime("%a %b %d %H:%M:%S UTC %Y").replace(" 0", "  ", 1) \
        if t.day < 10 else t.strftime("%a %b %d %H:%M:%S UTC %Y")


def fill(out: list[T], size: int, target: int, copied: list[T], rename: Callable[[T, int], T],
         stats: list[T]) -> None:
    """Append the per-file lines `copied`, renamed for each repetition, until `out` holds
    `target` bytes (it holds `size` now), with rclone's once-a-minute stats in between."""
    rep = 0
    while size < target:
        for ln in copied:
            line = rename(ln, rep)
            out.append(line)
            size += len(line)
            if size >= target:
                break
        rep += 1
        if rep % 8 == 0:
            out.extend(stats)


def one_run(tpl: Templates, night: int, start: datetime, size_target: int = RUN_BYTES) -> str:
    t = start + timedelta(days=night)
    stamp, date_out = t.strftime("%Y/%m/%d %H:%M:%S"), _date_output(t)
    if night % 25 == 24:
        return "".join(_retime(ln, stamp, date_out) for ln in tpl.failed)
    out = [_retime(ln, stamp, date_out) for ln in tpl.head]
    size = sum(map(len, out))
    stats_block = [_retime(ln, stamp, date_out) for ln in tpl.tail[:-1]]

    def rename(ln: str, rep: int) -> str:
        name_end = ln.index(": Copied")
        return f"{stamp} INFO  : n{night}/r{rep}/{ln[28:name_end]}{ln[name_end:]}"

    fill(out, size, size_target, tpl.copied, rename, stats_block)
    out.extend(_retime(ln, stamp, date_out) for ln in tpl.tail)
    return "".join(out)


def generate(out: Path, size: int, tpl: Templates) -> int:
    """Write nightly runs until `out` holds `size` bytes; returns the number of runs."""
    out.parent.mkdir(parents=True, exist_ok=True)
    start = datetime(2019, 1, 1, 3, 0, 0, tzinfo=UTC)
    written, night = 0, 0
    with out.open("w", encoding="utf-8") as fh:
        while written < size:
            chunk = one_run(tpl, night, start)
            fh.write(chunk)
            written += len(chunk.encode())
            night += 1
    return night


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--out", type=Path, default=DATA / "legacy-1g.log")
    ns = ap.parse_args(argv)
    tpl = record(DATA / "legacy-recording")
    runs = generate(ns.out, ns.size_mb * 1024 * 1024, tpl)
    print(f"wrote {ns.out}: {ns.out.stat().st_size} bytes, {runs} runs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
