"""A real rclone JSON log of a sync of many tiny files, and its rate; scaled up on demand.

`record(n_files)` runs the real rclone (`--use-json-log --stats 1s -v`, as the runner does)
over a generated tree of tiny files and returns the log and rclone's own emission rate in
lines per second: the baseline of the ingest benchmark. `scale(log, lines)` repeats its
per-file lines with new names (and the stats lines in between) up to `lines`, framed by the
runner's start and end markers, so that the live path sees a realistic mix.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import DATA, rclone
from tui.core.markers import MarkerKind, format_end, format_start, now


@dataclass
class Recording:
    log: Path
    lines: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.lines / self.seconds


def make_tiny_tree(root: Path, n_files: int, per_dir: int = 200) -> None:
    if root.exists():
        shutil.rmtree(root)
    for i in range(n_files):
        d = root / f"d{i // per_dir:04d}"
        if i % per_dir == 0:
            d.mkdir(parents=True)
        (d / f"f{i:06d}.txt").write_bytes(b"x" * (i % 64 + 1))


def record(n_files: int, workdir: Path | None = None) -> Recording:
    work = workdir or DATA / f"tiny-{n_files}"
    src, dst, log = work / "src", work / "dst", work / "rclone.jsonl"
    if not src.exists() or sum(1 for _ in src.rglob("*.txt")) != n_files:
        make_tiny_tree(src, n_files)
    shutil.rmtree(dst, ignore_errors=True)
    log.unlink(missing_ok=True)
    start = time.perf_counter()
    subprocess.run([rclone(), "sync", str(src), str(dst), "--use-json-log", "--stats", "1s",
                    "-v", "--transfers", "16", "--log-file", str(log)], check=True,
                   env={**os.environ, "RCLONE_CONFIG": "/dev/null"})
    seconds = time.perf_counter() - start
    with open(log, "rb") as fh:
        lines = sum(1 for _ in fh)
    return Recording(log, lines, seconds)


def scale(source_log: Path, target_lines: int, out: Path) -> Path:
    """Repeat the recorded per-file lines, renamed, until `target_lines`; markers around."""
    raw = source_log.read_bytes().splitlines()
    per_file = [ln for ln in raw if b'"Copied (' in ln]
    stats = [ln for ln in raw if b'"stats"' in ln]
    stats_line = stats[len(stats) // 2] if stats else None
    out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with open(out, "wb") as fh:
        fh.write(format_start("bench", "bench", "sync", 1, now()).encode() + b"\n")
        cycle = 0
        while written < target_lines:
            prefix = f"c{cycle:04d}/".encode()
            for i, ln in enumerate(per_file):
                fh.write(ln.replace(b'"object":"', b'"object":"' + prefix, 1) + b"\n")
                written += 1
                if stats_line is not None and i % 2000 == 1999:
                    fh.write(stats_line + b"\n")
                    written += 1
                if written >= target_lines:
                    break
            cycle += 1
        counters = {"bytes": "0", "transfers": str(written), "checks": "0", "deletes": "0",
                    "renames": "0", "errors": "0", "elapsed": "1.0"}
        fh.write(format_end(MarkerKind.COMPLETE, "bench", 0, now(), counters).encode() + b"\n")
    return out


if __name__ == "__main__":
    rec = record(5000)
    print(json.dumps({"lines": rec.lines, "seconds": rec.seconds, "rate": rec.rate}))
