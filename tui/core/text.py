"""Text from outside (file names, rclone's messages, a runner's stderr) made safe to show.

Control characters, ESC above all, must never reach the terminal: a file name can hold any
of them, and an ESC sequence on root's screen is terminal injection. Markup is a separate
matter: widgets show such text as plain text, never as markup.
"""

from __future__ import annotations

# C0 and C1 controls and DEL become U+FFFD; a tab becomes one space.
_CONTROL = {i: "\ufffd" for i in (*range(0, 32), 127, *range(0x80, 0xA0))}
_CONTROL[9] = " "


def printable(text: str) -> str:
    return text if text.isprintable() else text.translate(_CONTROL)


def path_lines(path: str, width: int) -> str:
    """A path cut into lines of at most `width` cells, only after a `/`: a toast that wraps
    a path by itself breaks it mid-name (`…/reports/sp` / `ace-mirror-…`). A single name
    longer than `width` stays whole on its own line."""
    lines: list[str] = []
    line = ""
    for part in path.split("/"):
        piece = part + "/"
        if line and len(line) + len(part) > width:
            lines.append(line)
            line = ""
        line += piece
    lines.append(line.removesuffix("/") if not path.endswith("/") else line)
    return "\n".join(lines)
