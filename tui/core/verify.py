"""Sampled verification, the pure part: which files to check, and what `rclone check` found.

`rclone check --combined FILE` (rclone 1.75.2) writes one line per file it looked at:

    = path   identical in source and destination
    + path   missing on the destination (only in the source)
    - path   missing on the source (only in the destination; never with --one-way)
    * path   present in both and different (size, or hash when both sides have one)
    ! path   an error reading or hashing it

A verify run classes its differences from these lines: missing on destination, differ, error.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

TYPE_CHECKING = False  # typing is 2 ms to import (issue 21)

if TYPE_CHECKING:  # the caller's generator; `history` reads this module's notes only
    import random

DEFAULT_PERCENT = 5.0
MAX_EXAMPLES = 20


def percent_problem(value: float) -> str | None:
    """None for a usable sample size; else what is wrong (one line)."""
    if not (math.isfinite(value) and 0 < value <= 100):
        return f"--sample {value:g} is not a percentage above 0 and at most 100 (e.g. 5)"
    return None


def sample_size(total: int, percent: float) -> int:
    """How many of `total` files `percent` % is: at least one when there are any."""
    return min(total, max(1, math.ceil(total * percent / 100))) if total > 0 else 0


def pick_indexes(total: int, percent: float, rng: random.Random) -> list[int]:
    """`percent` % of the positions 0..total-1, drawn by `rng`, in increasing order: a
    listing of millions of names is then read twice, never held in memory."""
    return sorted(rng.sample(range(total), sample_size(total, percent)))


def sample(names: Sequence[str], percent: float, rng: random.Random) -> list[str]:
    """`percent` % of `names` (at least one when there are any), drawn by `rng`, in order."""
    return [names[i] for i in pick_indexes(len(names), percent, rng)]


@dataclass(frozen=True, slots=True)
class CheckCounts:
    """What `rclone check --combined` reported for the sampled files."""

    same: int = 0
    missing: int = 0  # missing on the destination
    differ: int = 0
    errors: int = 0
    extra: int = 0  # only on the destination (not reported with --one-way)
    examples: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (class, path)

    @property
    def differences(self) -> int:
        return self.missing + self.differ + self.errors

    @property
    def checked(self) -> int:
        return self.same + self.missing + self.differ + self.errors


_CLASSES = {"+": "missing", "*": "differ", "!": "error", "=": "same", "-": "extra"}
LABELS = {"missing": "missing on destination", "differ": "differ", "error": "error"}


def parse_combined(text: str) -> CheckCounts:
    counts = dict.fromkeys(_CLASSES.values(), 0)
    examples: list[tuple[str, str]] = []
    for line in text.splitlines():
        if len(line) < 3 or line[1] != " " or line[0] not in _CLASSES:
            continue
        cls = _CLASSES[line[0]]
        counts[cls] += 1
        if cls in LABELS and len(examples) < MAX_EXAMPLES:
            examples.append((cls, line[2:]))
    return CheckCounts(same=counts["same"], missing=counts["missing"], differ=counts["differ"],
                       errors=counts["error"], extra=counts["extra"], examples=tuple(examples))


def summary(result: CheckCounts, sampled: int, noun: str = "sampled") -> str:
    """One line: `2 differences in 40 sampled files: 1 missing on destination (docs/a.txt),
    1 differ (b.bin), 0 errors`."""
    if result.differences == 0:
        return f"no differences in {sampled} {noun} file{'s' if sampled != 1 else ''}"
    parts: list[str] = []
    for cls, count in (("missing", result.missing), ("differ", result.differ),
                       ("error", result.errors)):
        label = LABELS[cls] if cls != "error" else ("error" if count == 1 else "errors")
        first = next((p for c, p in result.examples if c == cls), None)
        parts.append(f"{count} {label}" + (f" (e.g. {first})" if first else ""))
    n = result.differences
    return (f"{n} difference{'s' if n != 1 else ''} in {sampled} {noun} "
            f"file{'s' if sampled != 1 else ''}: " + ", ".join(parts))


COUNT_FIELDS = ("sampled", "differences", "missing", "differ", "unreadable")


def counts_from_fields(fields: dict[str, str]) -> dict[str, int] | None:
    """A verify end marker's counters (`sampled`, `differences`, `missing`, `differ`,
    `unreadable`) for the history; None when the marker has none of them."""
    out: dict[str, int] = {}
    for name in COUNT_FIELDS:
        value = fields.get(name, "")
        if value.isdigit():
            out[name] = int(value)
    return out or None


def history_note(counts: dict[str, int] | None) -> str:
    """`verify: 40 sampled, 1 missing on destination, 1 differ, 0 errors` for a history row."""
    if counts is None:
        return "verify"
    parts = [f"{counts['sampled']} sampled"] if "sampled" in counts else []
    if counts.get("differences", 0) == 0:
        return "verify: " + ", ".join([*parts, "no differences"])
    for key, label in (("missing", "missing on destination"), ("differ", "differ"),
                       ("unreadable", "errors")):
        if key in counts:
            parts.append(f"{counts[key]} {label}")
    return "verify: " + ", ".join(parts)
