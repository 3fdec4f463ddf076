"""The footer at every size shows whole labels only (issue 10 item 5): at 80x24 it used to
drop `e`'s label and `f Files`, and leave a stray `l` after `^p palette`."""

from __future__ import annotations

import re

import pytest
from app_helpers import JobDir, screen_text, wait_until

from tui.app.app import MirrorApp

LABELS = {"s": "Start", "d": "Dry run", "a": "Abort", "h": "History", "p": "Plan",
          "?": "Help", "q": "Quit", "/": "Search", "e": "Errors", "f": "Files", "l": "Last run",
          "w": "Limit",
          "^p": "palette"}


def footer_line(pilot: object) -> str:
    return screen_text(pilot).splitlines()[-1]  # type: ignore[arg-type]


def assert_whole(footer: str) -> list[str]:
    """Every key in the footer is followed by its whole label, and nothing else is there."""
    rest = footer.replace("▏", " ")
    keys = []
    for key, label in LABELS.items():
        found = re.search(rf"(?:^|\s){re.escape(key)} {re.escape(label)}(?=\s|$)", rest)
        if found:
            keys.append(key)
            rest = rest.replace(found.group(0), " ", 1)
    assert rest.strip() == "", f"cut or stray text in the footer: {footer!r} (left: {rest!r})"
    return keys


@pytest.mark.parametrize("size", [(100, 30), (80, 24), (60, 20), (40, 10)])
async def test_the_idle_footer_shows_whole_labels(job_dir: JobDir,
                                                   size: tuple[int, int]) -> None:
    app = MirrorApp(job_dir.job, job_dir.args, hostname="h")
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: app.caught_up and app.probes > 0, what="settle")
        await pilot.pause()
        keys = assert_whole(footer_line(pilot))
        assert {"s", "?", "q"} <= set(keys)
        assert "a" not in keys  # nothing to abort: the key still answers, but is not offered
        if size[0] >= 80:
            assert {"e", "f", "/", "d", "h", "p"} <= set(keys)


async def test_abort_stays_a_key_when_idle(job_dir: JobDir) -> None:
    app = MirrorApp(job_dir.job, job_dir.args, hostname="h")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await wait_until(pilot, lambda: app.caught_up and app.probes > 0, what="settle")
        await pilot.press("a")
        await wait_until(pilot, lambda: any("Nothing to abort" in n.message
                                            for n in app._notifications), 5, "the answer")
