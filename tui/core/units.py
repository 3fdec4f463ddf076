"""Human-readable numbers, the way rclone prints them (binary units, Go-like durations)."""

from __future__ import annotations

import re

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def format_bytes(n: float | None) -> str:
    if n is None:
        return "-"
    value = float(n)
    for unit in _UNITS:
        if abs(value) < 1024 or unit == _UNITS[-1]:
            if unit == "B":
                return f"{int(value)} B"
            return f"{value:.1f} {unit}" if abs(value) < 100 else f"{value:.0f} {unit}"
        value /= 1024
    return f"{value:.0f} PiB"  # pragma: no cover - loop always returns


def format_rate(bytes_per_s: float | None) -> str:
    return "-" if bytes_per_s is None else f"{format_bytes(bytes_per_s)}/s"


def format_duration(seconds: float | None) -> str:
    """12.3 → '12s', 3723 → '1h02m03s', None → '-'."""
    if seconds is None or seconds < 0:
        return "-"
    s = round(seconds)
    days, s = divmod(s, 86400)
    hours, s = divmod(s, 3600)
    minutes, s = divmod(s, 60)
    if days:
        return f"{days}d{hours:02d}h{minutes:02d}m"
    if hours:
        return f"{hours}h{minutes:02d}m{s:02d}s"
    if minutes:
        return f"{minutes}m{s:02d}s"
    return f"{s}s"


def age_text(seconds: float) -> str:
    """27 h, 2.5 h, 12 min, 40 s: how people say an age (rounded down)."""
    if seconds >= 10 * 3600:
        return f"{int(seconds // 3600)} h"
    if seconds >= 2 * 3600:
        return f"{int(seconds / 360) / 10:g} h"
    if seconds >= 120:
        return f"{int(seconds // 60)} min"
    return f"{int(seconds)} s"


def count(value: object) -> int | None:
    """A count read from JSON or a marker: a non-negative int (never a bool), else None."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def count_text(value: int | None, unknown: str = "-") -> str:
    """A count for a table cell or a line; `unknown` when it is not known."""
    return unknown if value is None else str(value)


_DURATION_UNITS = {"": 1.0, "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
                   "m": 60.0, "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
                   "h": 3600.0, "hour": 3600.0, "hours": 3600.0,
                   "d": 86400.0, "day": 86400.0, "days": 86400.0}
_DURATION_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)", re.IGNORECASE)
DURATION_HELP = "a duration like 30m, 1h30m, 90s or 2 h (a bare number is seconds)"


def parse_duration(text: str) -> float | None:
    """`30m`, `1h30m`, `90 s`, `2 hours`, `1800` (seconds) → seconds; None when it is not
    a duration (for config keys people write by hand)."""
    pos, total, parts = 0, 0.0, 0
    text = text.strip()
    while pos < len(text):
        m = _DURATION_PART.match(text, pos)
        if m is None or m.end() == pos:
            return None
        factor = _DURATION_UNITS.get(m[2].lower())
        if factor is None or (m[2] == "" and parts):  # `1h30` is ambiguous: refuse it
            return None
        total += float(m[1]) * factor
        parts += 1
        pos = m.end()
        while pos < len(text) and text[pos] in " ,":
            pos += 1
    return total if parts else None
