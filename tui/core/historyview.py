"""What the history screen shows, free of any widget: the rows (newest first) under the
failures-only filter, the `/` search over them, the jump to a date, the status line and the
labelled log-scale trend bars. The filter and the search are runfilter's, the same functions
as `space-mirror history --outcome failed --search …`, so the screen and the CLI agree."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import tzinfo

from tui.core import runfilter
from tui.core.charts import log_trend
from tui.core.history import Run
from tui.core.seek import Matches

FAILURES = "failed"  # the filter key's outcome, as `--outcome failed` spells it
WIDE = 100  # from this terminal width the Outcome column says `failed (dry run)` in full


def failures_filter() -> runfilter.RunFilter:
    return runfilter.RunFilter(outcomes=runfilter.parse_outcomes(FAILURES))


def outcome_width(terminal_width: int) -> int:
    """The Outcome column's width: 12 at 80 columns (`dry success`, `D incomplete`), 20
    when wide (`incomplete (dry run)`). Without a dry run the column stays as narrow as
    its words."""
    return 20 if terminal_width >= WIDE else 12


class HistoryView:
    """The runs (oldest first, as History has them) and what the operator did to the list."""

    def __init__(self, runs: Sequence[Run]) -> None:
        self.runs = list(runs)
        self.failures_only = False
        self.rows: list[Run] = []
        self.matches = Matches("", ())
        self._refilter()

    def _refilter(self) -> None:
        where = failures_filter() if self.failures_only else runfilter.RunFilter()
        self.rows = list(reversed(runfilter.select(self.runs, where)))
        self.search(self.matches.term)

    def toggle_failures(self) -> None:
        self.failures_only = not self.failures_only
        self._refilter()

    def search(self, term: str) -> None:
        self.matches = Matches.find(self.rows, term, runfilter.matches_search)

    def clear_one(self) -> bool:
        """Esc: the search first, then the filter. True when something was cleared."""
        if self.matches.term:
            self.search("")
            return True
        if self.failures_only:
            self.toggle_failures()
            return True
        return False

    def date_row(self, text: str, zone: tzinfo | None) -> int:
        """The row of the first run (oldest first) that started on or after the date `text`
        (YYYY-MM-DD, read in `zone`). FilterError for a bad date or when no run is that
        recent."""
        when = runfilter.parse_bound(text, zone, end=False, option="date")
        oldest_first = list(reversed(self.rows))
        i = runfilter.first_on_or_after(oldest_first, when)
        if i is None:
            raise runfilter.FilterError(f"no run on or after {text.strip()}")
        return len(self.rows) - 1 - i

    def status(self, cursor: int, warnings: Sequence[object] = ()) -> str:
        if not self.runs:
            return "No runs in the log yet."
        if self.failures_only:
            shown = (f"failures only: {len(self.rows)} of {len(self.runs)} runs, newest first"
                     if self.rows else f"failures only: none of {len(self.runs)} runs failed")
            text = f"{shown} · f shows all"
        else:
            counts: dict[str, int] = {}
            for run in self.runs:
                counts[str(run.outcome)] = counts.get(str(run.outcome), 0) + 1
            summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
            text = f"{len(self.runs)} runs, newest first ({summary})"
        if self.matches.term:
            text += f" · /{self.matches.term}: {self.matches.position(cursor)}"
        if warnings:
            text += f" · {len(warnings)} warning(s): {warnings[0]}"
        return text


@dataclass(frozen=True, slots=True)
class Bar:
    data: list[float]  # log-scaled, for a sparkline
    top: str  # the largest value, labelled
    bottom: str  # the smallest
    outliers: int  # values more than 10x the median: tall on a log scale, never flattening


def trend_bar(values: Sequence[float], fmt: Callable[[float], str]) -> Bar:
    """A log-scale trend with its range as labels: one 883 GiB night among small ones stays
    one tall bar, and the small nights are not all drawn as the lowest block."""
    trend = log_trend(values)
    if trend is None:
        return Bar([], "", "", 0)
    return Bar(trend.data, fmt(trend.high), fmt(trend.low), len(trend.outliers))
