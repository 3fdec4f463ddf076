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
