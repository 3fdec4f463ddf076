"""Issue 22: a path shown in a toast is cut only after a `/`, never mid-name."""

from __future__ import annotations


def test_path_lines_cut_only_after_a_slash() -> None:
    from tui.core.text import path_lines

    path = "/root/.cache/space-mirror/reports/space-mirror-20261125T030001-ab12.txt"
    lines = path_lines(path, 36).split("\n")
    assert lines == ["/root/.cache/space-mirror/reports/",
                     "space-mirror-20261125T030001-ab12.txt"]
    assert path_lines("/a/b", 36) == "/a/b"
