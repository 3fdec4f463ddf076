"""Shared pieces of the benchmarks: data folder, timing, results file."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
DATA = Path(os.environ.get("SPACE_MIRROR_BENCH_DATA", ROOT / "data"))
RESULTS = ROOT / "results.json"


def rclone() -> str:
    from tui.ops.rclonecmd import resolve_rclone

    found = resolve_rclone(None)
    if found is None:
        raise SystemExit("bench: rclone not found (install the dev venv: make test)")
    return str(found)


@dataclass
class Result:
    name: str
    value: float
    baseline: float
    target: float
    unit: str
    # "le": ratio must be <= target; "ge": ratio must be >= target.
    direction: str = "le"
    note: str = ""
    informational: bool = False  # a figure beyond the targets: shown, not judged

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else float("inf")

    @property
    def met(self) -> bool:
        return self.ratio <= self.target if self.direction == "le" else self.ratio >= self.target

    def row(self) -> str:
        sign = "≤" if self.direction == "le" else "≥"
        mark = "info" if self.informational else ("met" if self.met else "MISSED")
        return (f"{self.name:<22} {self.value:>12.4g} {self.unit:<8} "
                f"baseline {self.baseline:>10.4g}"
                f"  ratio {self.ratio:>7.3f} (target {sign} {self.target:g})  {mark}"
                + (f"  — {self.note}" if self.note else ""))


def best_of(runs: int, fn: Callable[[], float]) -> float:
    """The fastest of `runs` timings: the least disturbed by the rest of the machine."""
    return min(fn() for _ in range(runs))


def best_of_pair(runs: int, value: Callable[[], float],
                 baseline: Callable[[], float]) -> tuple[float, float]:
    """The fastest of `runs` timings of each, taken in turns (`timed_in_turns`)."""
    values, baselines = timed_in_turns(runs, value, baseline)
    return min(values), min(baselines)


def timed_in_turns(runs: int, value: Callable[[], float],
                   baseline: Callable[[], float]) -> tuple[list[float], list[float]]:
    """`runs` timings of each, taken in turns (baseline first): a load that comes and goes
    on a shared machine (seconds long here) then weighs on both sides of the ratio alike."""
    values: list[float] = []
    baselines: list[float] = []
    for _ in range(runs):
        baselines.append(baseline())
        values.append(value())
    return values, baselines


def median_of_pair(runs: int, value: Callable[[], float],
                   baseline: Callable[[], float]) -> tuple[float, float]:
    """The median of `runs` timings of each, taken in turns."""
    values, baselines = timed_in_turns(runs, value, baseline)
    return statistics.median(values), statistics.median(baselines)


def time_to_first_frame(args: list[str], env: dict[str, str] | None = None) -> float:
    """Process start → the first frame of `python -m bench.first_frame ARGS` (its own
    report of the moment, against this process's clock)."""
    start = time.time()
    out = subprocess.run([sys.executable, "-m", "bench.first_frame", *args],
                         capture_output=True, text=True, check=True, timeout=120, env=env)
    for line in out.stdout.splitlines():
        if line.startswith("first-frame "):
            return float(line.split()[1]) - start
    raise RuntimeError(f"no first frame reported: {out.stdout[-500:]} {out.stderr[-500:]}")


def time_command(argv: Sequence[str], env: dict[str, str] | None = None) -> float:
    """Wall time of a command whose output is read through a pipe, as a person's terminal
    or a script would. Not /dev/null: GNU grep notices /dev/null and stops at the first
    match (seen: `grep -c` over 1 GiB in 1 ms)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert proc.stdout is not None
    while proc.stdout.read(1 << 16):
        pass
    if proc.wait() != 0 and Path(argv[0]).name != "grep":
        raise subprocess.CalledProcessError(proc.returncode, list(argv))
    return time.perf_counter() - start


@contextlib.contextmanager
def tmpfs(where: Path, size: str = "1g") -> Iterator[bool]:
    """A RAM-backed folder at `where` (True), or a plain folder when mounting is not
    allowed (False). On this VM the virtio disk makes the same 20k-file sync take 1.8 s or
    7.9 s (kernel time); on tmpfs it takes 1.1 s every time."""
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True).returncode == 0
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", str(where)], check=False)
        shutil.rmtree(where, ignore_errors=True)


def write_results(results: list[Result]) -> None:
    existing: dict[str, object] = {}
    if RESULTS.exists():
        try:
            existing = json.loads(RESULTS.read_text())
        except ValueError:
            existing = {}
    for r in results:
        existing[r.name] = {**{k: v for k, v in asdict(r).items() if k != "name"},
                            "ratio": r.ratio, "met": r.met}
    RESULTS.write_text(json.dumps(existing, indent=2, sort_keys=True) + "\n")


def python() -> str:
    return sys.executable
