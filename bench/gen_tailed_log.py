"""A history shaped like real nights: most runs small, a few full re-syncs huge.

A nightly mirror mostly finds little to do: a few hundred lines a night. Now and then a
full re-sync (a new bucket, a rename of a top folder) logs hundreds of MB. Run sizes here
are lognormal (most nights under 50 KB) plus a few full re-syncs that bring
the file to its target size (~300 MB over ~1,235 nights at full size). Every 25th night
fails (the recorded failure) and every 97th is cut off (killed: no final stats, no end
marker).

Two formats, both scaled up from real output recorded here:
* text: the legacy wrapper's runs (`bench/gen_legacy_log.py`'s recording);
* json: our runner's runs: real `rclone --use-json-log -v` lines (a sync of a small tree,
  and one against a missing source), framed by the runner's start and end markers.

    .venv/bin/python -m bench.gen_tailed_log [--format text|json] [--size-mb 300]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import gen_legacy_log
from bench.common import DATA, rclone
from tui.core.logline import parse_line
from tui.core.markers import MarkerKind, format_end, format_start
from tui.core.runstate import RunState, apply_all

NIGHTS = 1235
MEDIAN_BYTES = 4_000
SIGMA = 1.6
RESYNCS = 3
START = datetime(2022, 1, 1, 3, 0, 0, tzinfo=UTC)


def run_sizes(total: int, nights: int, seed: int = 12, sigma: float = SIGMA) -> list[int]:
    """Lognormal night sizes, with `RESYNCS` full re-syncs making up the rest of `total`."""
    rng = random.Random(seed)
    sizes = [int(MEDIAN_BYTES * math.exp(rng.gauss(0, sigma))) for _ in range(nights)]
    rest = max(0, total - sum(sizes))
    for k in range(RESYNCS):
        night = (k + 1) * nights // (RESYNCS + 1)
        sizes[night] += rest // RESYNCS
    return sizes


@dataclass
class JsonTemplates:
    head: list[bytes]  # lines before the first "Copied"
    copied: list[bytes]
    stats: bytes  # one mid-run stats line
    tail: list[bytes]  # the final stats line(s)
    failed: list[bytes]  # rclone's lines of a run against a missing source
    # The end markers' counters, as our runner writes them (read once, not per night).
    done_counters: dict[str, str] = field(init=False)
    failed_counters: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.done_counters = _counters(self.tail)
        self.failed_counters = _counters(self.failed)


def _counters(lines: list[bytes]) -> dict[str, str]:
    """rclone's final figures in `lines`, by the runner's own fold (RunState.counters)."""
    events = [parse_line(ln.decode("utf-8", "replace").rstrip("\n")) for ln in lines]
    return apply_all(RunState(), events).counters()


def record_json(base: Path, files: int = 300) -> JsonTemplates:
    src, dst = gen_legacy_log.photo_tree(base, files)
    env = {**os.environ, "RCLONE_CONFIG": "/dev/null", "RCLONE_RETRIES": "1"}
    logs = {}
    for name, source in (("ok", src), ("bad", base / "missing")):
        log = base / f"{name}.jsonl"
        log.unlink(missing_ok=True)
        subprocess.run([rclone(), "sync", str(source), str(dst), "--use-json-log", "-v",
                        "--stats", "1s", "--log-file", str(log)], env=env, check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        logs[name] = log.read_bytes().splitlines(keepends=True)
    ok = logs["ok"]
    first = next(i for i, ln in enumerate(ok) if b'"Copied (' in ln)
    last = max(i for i, ln in enumerate(ok) if b'"Copied (' in ln)
    stats = [ln for ln in ok if b'"stats":{' in ln]
    # A night with a few changed files sets the modification time of a few folders, not
    # of all ~400 the recording made.
    tail = [ln for ln in ok[last + 1:] if b"Set directory modification time" not in ln]
    return JsonTemplates(head=ok[:first], copied=[ln for ln in ok if b'"Copied (' in ln],
                         stats=stats[0], tail=tail, failed=logs["bad"])


def _json_run(tpl: JsonTemplates, night: int, size: int) -> bytes:
    when = START + timedelta(days=night)
    run_id = when.strftime("%Y%m%dT%H%M%S") + f"-{night:04x}"
    out = [format_start(run_id, "tailed", "sync", 1000 + night, when).encode() + b"\n"]
    if night % 25 == 24:
        out.extend(tpl.failed)
        end = format_end(MarkerKind.FAILED, run_id, 3, when + timedelta(seconds=2),
                         tpl.failed_counters, reason="Source not found")
        return b"".join(out) + end.encode() + b"\n"
    out.extend(tpl.head)

    def rename(ln: bytes, rep: int) -> bytes:
        return ln.replace(b'"object":"', f'"object":"n{night}/r{rep}/'.encode(), 1)

    gen_legacy_log.fill(out, sum(map(len, out)), size, tpl.copied, rename, [tpl.stats])
    if night % 97 == 96:  # killed: no final stats, no end marker
        return b"".join(out)
    out.extend(tpl.tail)
    # The figures of the final stats line (not of the copied lines, which fill scales):
    # the marker and the stats agree, as a real run's do.
    end = format_end(MarkerKind.COMPLETE, run_id, 0, when + timedelta(seconds=60),
                     tpl.done_counters)
    return b"".join(out) + end.encode() + b"\n"


def _text_run(tpl: gen_legacy_log.Templates, night: int, size: int) -> bytes:
    text = gen_legacy_log.one_run(tpl, night, START, size)
    if night % 97 == 96 and night % 25 != 24:  # killed: no final stats, no end marker
        text = text[:text.rfind("\n", 0, text.rfind("Transferred:")) + 1]
        text = text[:text.rfind("\n", 0, len(text) - 1) + 1]
    return text.encode()


def generate(out: Path, size: int, fmt: str, nights: int = NIGHTS, seed: int = 12,
             sigma: float = SIGMA) -> int:
    """Write `nights` runs of about `size` bytes in all; returns the number of runs."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        jtpl = record_json(DATA / "tailed-json-recording")
        def make(n: int, s: int) -> bytes:
            return _json_run(jtpl, n, s)
    else:
        rec = gen_legacy_log.record(DATA / "legacy-recording")
        small = [ln for ln in rec.tail if "Set directory modification time" not in ln]
        ttpl = gen_legacy_log.Templates(rec.head, rec.copied, small, rec.failed)
        def make(n: int, s: int) -> bytes:
            return _text_run(ttpl, n, s)
    # A run's fixed lines (rclone's start, the final stats) come on top of its size.
    sizes = run_sizes(size - len(make(0, 0)) * nights, nights, seed, sigma)
    with out.open("wb") as fh:
        for night, s in enumerate(sizes):
            fh.write(make(night, s))
    return nights


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--format", choices=("text", "json"), default="text")
    ap.add_argument("--size-mb", type=int, default=300)
    ap.add_argument("--nights", type=int, default=NIGHTS)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--sigma", type=float, default=SIGMA)
    ns = ap.parse_args(argv)
    out = ns.out or DATA / f"tailed-{ns.format}-{ns.size_mb}m" / "space-mirror.log"
    runs = generate(out, ns.size_mb * 2**20, ns.format, ns.nights, ns.seed, ns.sigma)
    print(f"wrote {out}: {out.stat().st_size} bytes, {runs} runs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
