"""Bandwidth limits in rclone's own notation: light validation and the text people read.

rclone (1.75.2) takes, for `--bwlimit` and the rc call `core/bwlimit`:

* a rate: a number with an optional binary suffix (`512k`, `1.5M`, `10Mi`, `100`: KiB/s by
  default), or `off`; optionally `UPLOAD:DOWNLOAD` (`10M:1M`);
* for `--bwlimit` only, a timetable: space-separated `[DAY-]HH:MM,RATE` entries
  (`08:00,512k 19:00,off`, `Mon-08:00,512k Sat-00:00,off`).

We check the form so a typo is one clear line before anything starts; rclone has the last
word on the values (and its own error is relayed as it is).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_ONE_RATE = r"(?:off|\d+(?:\.\d+)?(?:[bkmgtpe]i?b?)?)"
_RATE = re.compile(rf"^{_ONE_RATE}(?::{_ONE_RATE})?$", re.IGNORECASE)
_DAYS = "mon|tue|wed|thu|fri|sat|sun"
_ENTRY = re.compile(rf"^(?:(?:{_DAYS})-)?(?P<h>\d{{1,2}}):(?P<m>\d{{2}}),(?P<rate>\S+)$",
                    re.IGNORECASE)

RATE_HELP = "a rate like 512k, 10M, 1.5M, 10M:1M (upload:download) or off"
SCHEDULE_HELP = 'a rate (512k, 10M, off) or a timetable like "08:00,512k 19:00,off"'


def rate_problem(text: str) -> str | None:
    """None when `text` is one rate rclone's core/bwlimit takes; else what is wrong."""
    if not _RATE.fullmatch(text.strip()):
        return f"bandwidth limit {text!r} is not {RATE_HELP}"
    return None


def schedule_problem(text: str) -> str | None:
    """None when `text` is a --bwlimit value (a rate or a timetable); else what is wrong."""
    entries = text.split()
    if not entries:
        return f"bwlimit is empty; use {SCHEDULE_HELP}, or leave the key out"
    if len(entries) == 1 and _RATE.fullmatch(entries[0]):
        return None
    joined = "".join(entries)
    if len(entries) > 1 and _RATE.fullmatch(joined):  # `10 M`: one rate, spaced out
        return (f"bwlimit {text!r} has a space inside the rate; write {joined!r} (a space "
                f"starts another timetable entry); use {SCHEDULE_HELP}")
    for entry in entries:
        m = _ENTRY.fullmatch(entry)
        if m is None:
            return (f"bwlimit entry {entry!r} is not HH:MM,RATE (or DAY-HH:MM,RATE); "
                    f"use {SCHEDULE_HELP}")
        if int(m["h"]) > 23 or int(m["m"]) > 59:
            return f"bwlimit entry {entry!r} has no such time of day (00:00 to 23:59)"
        if not _RATE.fullmatch(m["rate"]):
            return f"bwlimit entry {entry!r}: {m['rate']!r} is not {RATE_HELP}"
    return None


def rate_text(bytes_per_second: float) -> str:
    """Bytes per second → `512 KiB/s`, `4 MiB/s`, `1.5 GiB/s`; negative means no limit."""
    if bytes_per_second < 0:
        return "off"
    value = float(bytes_per_second)
    for unit in ("B/s", "KiB/s", "MiB/s", "GiB/s", "TiB/s"):
        if value < 1024 or unit == "TiB/s":
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def limit_text(response: Mapping[str, object]) -> str:
    """rclone's core/bwlimit answer → one short line for a person or the dashboard.

    `{"bytesPerSecond": 4194304, "bytesPerSecondTx": 4194304, "bytesPerSecondRx": 4194304,
    "rate": "4Mi"}` → `4 MiB/s`; `-1` everywhere (`"rate": "off"`) → `off (no limit)`;
    different upload and download limits → `upload 10 MiB/s, download 1 MiB/s`.
    """
    tx = _as_float(response.get("bytesPerSecondTx", response.get("bytesPerSecond")))
    rx = _as_float(response.get("bytesPerSecondRx", response.get("bytesPerSecond")))
    if tx is None and rx is None:
        rate = response.get("rate")
        return str(rate) if isinstance(rate, str) and rate else "unknown"
    if tx == rx or rx is None or tx is None:
        value = tx if tx is not None else rx
        assert value is not None
        return "off (no limit)" if value < 0 else rate_text(value)
    return f"upload {rate_text(tx)}, download {rate_text(rx)}"


def _as_float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)
