"""Rotating verification, the pure part: which slice the next `verify --rotate N` checks,
and how much of the tree has been proven within the last N verify runs.

rclone ≥ 1.70's `--hash-filter K/N` keeps the files whose name hashes into slice K of N
(rclone 1.75.2: K runs 0..N-1, K=N is slice 0 again; the N slices are disjoint and together
are every file). A verify with `--rotate N` checks slice `next`, then advances `next`; the
count lives in the verify's state file, not in the date, so a skipped night is not lost: the
next verify checks the slice the skipped one would have.

A slice is *proven* when its check ran to the end and found no difference. Coverage is the
share of the N slices proven within the last N verify runs; the oldest slice's age is the
time since the least recently proven slice was proven (unknown while a slice never was).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from tui.core.rclone_version import capabilities, first_with, parse_version
from tui.core.units import age_text

MAX_SLICES = 10000


def rotate_problem(value: int) -> str | None:
    """None for a usable slice count; else what is wrong (one line)."""
    if not 2 <= value <= MAX_SLICES:
        return (f"--rotate {value} is not a number of slices from 2 to {MAX_SLICES} "
                "(e.g. 14: every file checked within 14 verify runs)")
    return None



def hash_filter_problem(version: str | None) -> str | None:
    """None when this rclone has --hash-filter; else the one line that says what it needs.
    The version and the first release with the flag come from tui/core/rclone_version.py."""
    parsed = parse_version(version) if version else None
    need = str(first_with("hash_filter")).removeprefix("v")
    if parsed is None:
        return f"rclone's version is unknown; verify --rotate needs rclone {need} or newer"
    if not capabilities(parsed).hash_filter:
        return (f"rclone {version} has no --hash-filter; verify --rotate needs rclone {need} "
                "or newer (the bundled rclone has it: remove the job's `rclone` key)")
    return None


@dataclass(frozen=True, slots=True)
class SliceCheck:
    run: int  # which verify run of the rotation checked it (1, 2, …)
    ended: float  # unix seconds
    files: int
    differences: int

    @property
    def proven(self) -> bool:
        return self.differences == 0


@dataclass(frozen=True)
class Rotation:
    """The verify's rotation state: N slices, the next one to check, the runs done, and
    each slice's last check."""

    slices: int
    next: int = 0
    runs: int = 0
    checks: dict[int, SliceCheck] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {"slices": self.slices, "next": self.next, "runs": self.runs,
                "checks": {str(k): {"run": c.run, "ended": c.ended, "files": c.files,
                                    "differences": c.differences}
                           for k, c in sorted(self.checks.items())}}


def from_json(data: object) -> Rotation | None:
    """The state as written by `as_json`; None for anything else (a damaged file starts a
    new rotation rather than crash a verify)."""
    if not isinstance(data, dict):
        return None
    try:
        slices, nxt, runs = int(data["slices"]), int(data["next"]), int(data["runs"])
        checks = {int(k): SliceCheck(int(v["run"]), float(v["ended"]), int(v["files"]),
                                     int(v["differences"]))
                  for k, v in dict(data.get("checks", {})).items()}
    except (KeyError, TypeError, ValueError):
        return None
    if rotate_problem(slices) or not 0 <= nxt < slices:
        return None
    return Rotation(slices, nxt, runs, {k: c for k, c in checks.items() if 0 <= k < slices})


def loads(text: str | bytes | None) -> Rotation | None:
    if not text:
        return None
    try:
        return from_json(json.loads(text))
    except ValueError:
        return None


def start(previous: Rotation | None, slices: int) -> Rotation:
    """The rotation a `verify --rotate N` continues: the previous one, or a new one when
    there was none or it had another N (its slices are other files)."""
    if previous is not None and previous.slices == slices:
        return previous
    return Rotation(slices)


def advance(state: Rotation, ended: float, files: int, differences: int) -> Rotation:
    """After slice `state.next` was checked to the end: record it and move on."""
    run = state.runs + 1
    checks = {**state.checks, state.next: SliceCheck(run, ended, files, differences)}
    return Rotation(state.slices, (state.next + 1) % state.slices, run, checks)


@dataclass(frozen=True)
class Coverage:
    slices: int
    runs: int
    proven: int  # slices proven within the last `slices` runs
    oldest_age: float | None  # seconds since the least recently proven slice (None: unknown)
    overdue: tuple[int, ...]  # slices not proven within the last `slices` runs
    differing: tuple[int, ...]  # slices whose last check found differences

    @property
    def ratio(self) -> float:
        return self.proven / self.slices

    @property
    def complete_cycle(self) -> bool:
        """At least N runs have been made: every slice has had its turn."""
        return self.runs >= self.slices

    def text(self) -> str:
        """`verified 100% within the last 14 runs; oldest slice 13 d`."""
        window = min(self.runs, self.slices)
        head = (f"verified {self.ratio * 100:.0f}% within the last {window} "
                f"run{'s' if window != 1 else ''}")
        if window < self.slices:
            head += f" (rotation of {self.slices})"
        if self.oldest_age is not None:
            head += f"; oldest slice {long_age_text(self.oldest_age)}"
        if self.differing:
            head += f"; differences in slice{_s(self.differing)} {_list(self.differing)}"
        if self.overdue and self.complete_cycle:
            head += f"; overdue: slice{_s(self.overdue)} {_list(self.overdue)}"
        elif not self.complete_cycle:
            left = self.slices - self.runs
            head += f"; first cycle, {left} slice{'s' if left != 1 else ''} to go"
        return head

    def as_json(self) -> dict[str, object]:
        return {"slices": self.slices, "runs": self.runs, "proven_slices": self.proven,
                "coverage_ratio": round(self.ratio, 4), "oldest_slice_age_s": self.oldest_age,
                "overdue_slices": list(self.overdue),
                "differing_slices": list(self.differing), "text": self.text()}


def coverage(state: Rotation, now: float) -> Coverage:
    window_start = state.runs - state.slices  # runs after this one are "the last N"
    proven: list[int] = []
    overdue: list[int] = []
    for k in range(state.slices):
        c = state.checks.get(k)
        if c is not None and c.proven and c.run > window_start:
            proven.append(k)
        else:
            overdue.append(k)
    differing = tuple(k for k, c in sorted(state.checks.items()) if not c.proven)
    times = [state.checks[k].ended for k in proven]
    oldest = (max(0.0, now - min(times)) if len(proven) == state.slices and times else None)
    return Coverage(state.slices, state.runs, len(proven), oldest, tuple(overdue), differing)


def long_age_text(seconds: float) -> str:
    """`13 d` from two days on, else as units.age_text says it."""
    if seconds >= 2 * 86400:
        return f"{int(seconds // 86400)} d"
    return age_text(seconds)


def _s(items: tuple[int, ...]) -> str:
    return "s" if len(items) != 1 else ""


def _list(items: tuple[int, ...], limit: int = 8) -> str:
    shown = ", ".join(str(k) for k in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")
