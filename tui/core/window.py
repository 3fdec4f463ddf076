"""The nightly window: seconds from now to the next "HH:MM" of the local clock."""

from __future__ import annotations

from datetime import datetime, timedelta


def seconds_until(clock: str, now: datetime) -> int:
    """Whole seconds from `now` to the next `clock` ("07:00") in now's time zone; a window
    end that has passed today is tomorrow's. Raises ValueError for a malformed clock."""
    hours, _, minutes = clock.partition(":")
    h, m = int(hours), int(minutes)
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ValueError(f"not a time of day: {clock!r}")
    end = now.replace(hour=h, minute=m, second=0, microsecond=0)
    if end <= now:
        end += timedelta(days=1)
    return max(1, int((end - now).total_seconds()))
