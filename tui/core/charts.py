"""Small rules for charts, free of any widget: when a sparkline may draw, and a trend on a
log scale that one huge run cannot flatten."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def spark_samples(samples: Sequence[float]) -> list[float]:
    """What a sparkline may draw: nothing with fewer than two samples (one sample draws as a
    solid block, which reads as "full speed all along")."""
    return [float(s) for s in samples] if len(samples) >= 2 else []


@dataclass(frozen=True, slots=True)
class Trend:
    """A series ready for a bar chart: its values log-scaled, its raw range and outliers."""

    data: list[float]  # log-scaled values, for a bar chart
    low: float  # the smallest raw value (a label)
    high: float  # the largest raw value (a label)
    outliers: tuple[int, ...]  # indexes of values more than 10x the median


def log_trend(values: Sequence[float]) -> Trend | None:
    """Values on a log scale (log10(1 + v)), labelled by their raw range, with the outliers
    (more than 10x the median) named so that a screen can mark them. None when empty."""
    if not values:
        return None
    raw = [max(0.0, float(v)) for v in values]
    ordered = sorted(raw)
    median = ordered[len(ordered) // 2]
    outliers = tuple(i for i, v in enumerate(raw) if median > 0 and v > 10 * median)
    return Trend([math.log10(1 + v) for v in raw], ordered[0], ordered[-1], outliers)
