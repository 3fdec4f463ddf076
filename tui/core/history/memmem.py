"""The C library's `memmem`, for the long searches of a cold scan (issue 21).

A cold scan's largest cost is looking for a run's error needle (`ERROR : `,
`"level":"error"`) through every byte of its region: a 95 MB re-sync is all per-file lines.
Python's `bytearray.find` searches a needle of this length at ~0.35 ns a byte; glibc's
`memmem` at ~0.13 (measured on the heavy-tailed bench logs: 38 ms against 13 ms per 100 MB),
which is most of the distance between a cold history and `grep -c` on the same file.

Loaded only for a scan whose range is large enough to pay for `ctypes` (1.6 ms to import);
where there is no C library to load or no `memmem` in it, `SEARCH` is None and the callers
keep `bytearray.find`. A foreign call releases the GIL, so the dashboard's history read on
its worker thread leaves the UI thread alone while it searches.
"""

from __future__ import annotations

import ctypes

TYPE_CHECKING = False  # typing is 2 ms to import (issue 21)
if TYPE_CHECKING:
    from collections.abc import Callable

    Search = Callable[[int, int, bytes, int], int | None]


def _load() -> Search | None:
    try:
        found = ctypes.CDLL(None).memmem
    except (OSError, AttributeError, TypeError):  # no C library to open, or no memmem in it
        return None
    found.restype = ctypes.c_void_p  # an address, or None (NULL): not found
    found.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]
    return found


SEARCH = _load()


class Pinned:
    """A bytearray's address and size, for `SEARCH`. The export it holds keeps the bytearray
    from being resized (which would move it) for as long as this object lives."""

    __slots__ = ("_export", "address", "size")

    def __init__(self, buf: bytearray) -> None:
        self._export = ctypes.c_char.from_buffer(buf)
        self.address = ctypes.addressof(self._export)
        self.size = len(buf)


def find_in_pinned(pinned: Pinned, sub: bytes, lo: int, hi: int, base: int,
                   out: list[int]) -> int:
    """Append `base + p` for every place p of `sub` within [lo, hi) of the pinned buffer,
    each search going on after the last match (`bytes.find`'s non-overlapping order), and
    return where the last match ended (`lo` when there was none). A range past the buffer's
    end is cut at it: C reads no byte that is not the buffer's, whatever a caller asks.
    Called only where `SEARCH` was found (LogBytes.search_fast)."""
    search = SEARCH
    assert search is not None
    n = len(sub)
    at = pinned.address
    hi = min(hi, pinned.size)
    pos = lo
    end = lo
    while hi - pos >= n:
        hit = search(at + pos, hi - pos, sub, n)
        if not hit:
            break
        found = hit - at
        out.append(base + found)
        pos = end = found + n
    return end
