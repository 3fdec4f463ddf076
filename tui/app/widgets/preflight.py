"""The panel that says why nothing was started: failed pre-flight checks, or the runner's
own refusal (another sync holds the lock, a bad config …)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Static

from tui.core.text import printable

if TYPE_CHECKING:  # the checks run after the first frame
    from tui.ops.preflight import CheckResult


class ProblemPanel(Static):
    DEFAULT_CSS = """
    ProblemPanel {
        display: none;
        height: auto;
        max-height: 12;
        border: heavy $error;
        border-title-style: bold;
        padding: 0 1;
        &.-shown { display: block; }
    }
    """

    def show_checks(self, results: list[CheckResult], dry_run: bool) -> None:
        bad = [r for r in results if not r.ok]
        what = "dry run" if dry_run else "sync"
        self.border_title = f"Pre-flight failed: the {what} was not started"
        lines = [Content(printable(r.line())) for r in bad]
        lines.append(Content.styled("Fix these, then press s (or d) again. Esc hides this.",
                                    "$text-muted"))
        self.update(Content("\n").join(lines))
        self.add_class("-shown")

    def show_refusal(self, code: int, complaint: str, meaning: str) -> None:
        self.border_title = f"The runner refused to start (exit {code})"
        lines = [Content(printable(complaint or meaning)), Content.styled(meaning, "$text-muted")]
        self.update(Content("\n").join(lines))
        self.add_class("-shown")

    def show_problem(self, title: str, text: str) -> None:
        self.border_title = title
        self.update(Content(text))
        self.add_class("-shown")

    def hide(self) -> None:
        self.remove_class("-shown")

    @property
    def shown(self) -> bool:
        return self.has_class("-shown")
