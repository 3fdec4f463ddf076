"""Python's cyclic garbage collector held off while many records are built at once.

Reading a history builds thousands of small objects (a run, its spans, its counters), and
decoding the fleet's answers ~130,000 (1,000 rows' JSON), none of them part of a reference
cycle. Each counts towards the collector's next pass, and each pass walks the objects of its
generations: ~4 ms of a 20 ms history read after a night was appended, ~18 ms of a 45 ms
fleet refresh, and a full pass (every object of the process: in the dashboard, all of
Textual's too) 10 ms and more at a time (issue 21). Reference counting frees everything as
before; only the search for cycles waits until the block is done. Not for the screens'
own work: a pass held off there comes due during the next paint.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager

TYPE_CHECKING = False  # typing is 2 ms to import (issue 21)
if TYPE_CHECKING:
    from collections.abc import Iterator


@contextmanager
def gc_paused() -> Iterator[None]:
    """The collector off for the block, back on after it (as it was: a block inside another,
    or in a second thread while the first is in one, leaves it to the outer one)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
