"""`/` search over the rows of a list (history runs, a plan's files): which rows match, the
next or previous one from the cursor (wrapping, as less and vim do), and the `3/467`
position. Pure; the screens move their cursor to the row it names."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Matches:
    term: str
    rows: tuple[int, ...]  # the matching rows, in order

    @classmethod
    def find(cls, items: Sequence[T], term: str,
             match: Callable[[T, str], bool]) -> Matches:
        """The rows of `items` that `match(item, term)`; none for an empty term."""
        if not term.strip():
            return cls("", ())
        return cls(term, tuple(i for i, item in enumerate(items) if match(item, term)))

    def step(self, cursor: int, backwards: bool = False, *, include: bool = False) -> int | None:
        """The first match after `cursor` (before it, `backwards`), wrapping; with `include`
        the cursor's own row counts. None without matches."""
        if not self.rows:
            return None
        if include and cursor in self.rows:
            return cursor
        if backwards:
            before = [r for r in self.rows if r < cursor]
            return before[-1] if before else self.rows[-1]
        after = [r for r in self.rows if r > cursor]
        return after[0] if after else self.rows[0]

    def position(self, cursor: int) -> str:
        """`3/467` on a match, else `467 found` (`0 found` without any)."""
        if cursor in self.rows:
            return f"{self.rows.index(cursor) + 1}/{len(self.rows)}"
        return f"{len(self.rows)} found"


def contains_words(text: str, query: str) -> bool:
    """Every word of `query` (case-insensitive) is in `text`."""
    hay = text.casefold()
    return all(w in hay for w in query.casefold().split())
