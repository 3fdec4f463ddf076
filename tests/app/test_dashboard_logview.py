"""The log view: bounded, filters, search, follow, plain text, throughput."""

from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult

from tui.app.feed import Feed, LogEntry, make_entry
from tui.app.widgets.logview import LogView

FIXTURE_LOG = Path(__file__).parents[1] / "snapshots" / "logs" / "failed.log"


class LogApp(App[None]):
    def __init__(self, max_lines: int = 100) -> None:
        super().__init__()
        self.max_lines = max_lines

    def compose(self) -> ComposeResult:
        yield LogView(self.max_lines)


def _recorded_entries() -> list[LogEntry]:
    """Display lines of a real recorded log (runner + rclone), through the real parser."""
    feed = Feed(10_000)
    feed.feed(FIXTURE_LOG.read_bytes().splitlines())
    return feed.take()


async def test_bounded_and_follows_the_end() -> None:
    app = LogApp(max_lines=50)
    async with app.run_test(size=(60, 12)) as pilot:
        log = app.query_one(LogView)
        log.append([make_entry("info", f"line {i}") for i in range(200)])
        await pilot.pause()
        assert log.line_count == 50
        assert log.visible_text()[0] == "line 150"
        assert log.scroll_y == log.max_scroll_y > 0


async def test_scrolling_up_pauses_and_end_resumes() -> None:
    app = LogApp(max_lines=1000)
    async with app.run_test(size=(60, 12)) as pilot:
        log = app.query_one(LogView)
        log.focus()
        log.append([make_entry("info", f"line {i}") for i in range(100)])
        await pilot.pause()
        await pilot.press("pageup")
        assert not log.follow
        top = log.scroll_y
        log.append([make_entry("info", f"more {i}") for i in range(10)])
        await pilot.pause()
        assert log.scroll_y == top  # reading back is not disturbed by new lines
        assert "paused" in str(log.border_title)
        await pilot.press("end")
        await pilot.pause()
        assert log.follow
        assert log.scroll_y == log.max_scroll_y


async def test_filters_on_a_recorded_log() -> None:
    entries = _recorded_entries()
    app = LogApp(max_lines=5000)
    async with app.run_test(size=(100, 20)) as pilot:
        log = app.query_one(LogView)
        log.append(entries)
        await pilot.pause()
        everything = log.line_count
        assert any("Copied (new)" in t for t in log.visible_text())
        log.errors_only = True
        await pilot.pause()
        kept = log.visible_text()
        assert 0 < len(kept) < everything
        assert all(" ERROR " in t or "Space Mirror" in t for t in kept)
        assert any("Got fatal error on delete" in t for t in kept)
        log.errors_only = False
        log.hide_files = True
        await pilot.pause()
        assert not any("Copied (new)" in t for t in log.visible_text())
        assert any("Space Mirror FAILED" in t for t in log.visible_text())
        log.hide_files = False
        await pilot.pause()
        assert log.line_count == everything


async def test_search_highlights_and_next_match() -> None:
    app = LogApp(max_lines=1000)
    async with app.run_test(size=(60, 10)) as pilot:
        log = app.query_one(LogView)
        log.append([make_entry("info", f"file {i}" + (" needle" if i % 25 == 0 else ""))
                    for i in range(100)])
        await pilot.pause()
        assert log.search("NEEDLE")
        first = log.current_match
        assert first is not None and "needle" in log.visible_text()[first]
        assert log.match_count() == 4
        assert not log.follow
        log.next_match()
        second = log.current_match
        assert second is not None and second > first
        log.next_match(backwards=True)
        assert log.current_match == first
        assert log.scroll_y <= first < log.scroll_y + log.size.height
        assert not log.search("absent")


async def test_markup_in_file_names_is_plain_text() -> None:
    nasty = ["x[/bold].txt", "[red]oops[/red]", "[link=http://x]y", "\x1b[31mred\x1b[0m"]
    app = LogApp()
    async with app.run_test(size=(80, 10)) as pilot:
        log = app.query_one(LogView)
        log.append([make_entry("error", f"ERROR  {n}: failed") for n in nasty])
        await pilot.pause()
        shown = "\n".join(s.text for s in app.screen._compositor.render_strips())
        assert "x[/bold].txt: failed" in shown
        assert "[red]oops[/red]: failed" in shown
        assert "\x1b" not in shown  # control characters never reach the terminal
        assert "\ufffd[31mred" in shown


async def test_takes_200k_lines_in_batches_and_keeps_the_newest() -> None:
    """The rate (>= 100k lines/s) is measured by `make bench` (logview-append), not here."""
    app = LogApp(max_lines=5000)
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(LogView)
        for n in range(40):  # 200k lines
            log.append([make_entry("info", f"12:00:00 INFO   dir/file-{n:02d}-{i:04d}.bin: "
                                           "Copied (new)", True) for i in range(5000)])
            await pilot.pause(0)
        assert log.line_count == 5000
        shown = log.visible_text()
        assert shown[0].startswith("12:00:00 INFO   dir/file-39-0000.bin")  # the last batch
        assert shown[-1].startswith("12:00:00 INFO   dir/file-39-4999.bin")
