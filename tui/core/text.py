"""Text from outside (file names, rclone's messages, a runner's stderr) made safe to show.

Control characters, ESC above all, must never reach the terminal: a file name can hold any
of them, and an ESC sequence on root's screen is terminal injection. Format characters
(Unicode category Cf: the bidi overrides and isolates that make `evil\u202eexe.txt` read as
`eviltxt.exe`, zero-width spaces and joiners) and the line and paragraph separators are
shown the same way: they change what a reader sees without being seen. Markup is a
separate matter: widgets show such text as plain text, never as markup.
"""

from __future__ import annotations

import json
import re
import unicodedata

TYPE_CHECKING = False  # typing is 2 ms to import (issue 21)
if TYPE_CHECKING:
    from typing import Any

# C0 and C1 controls and DEL become U+FFFD; a tab becomes one space.
_CONTROL = {i: "\ufffd" for i in (*range(0, 32), 127, *range(0x80, 0xA0))}
_CONTROL[9] = " "
_HIDDEN = frozenset(("Cf", "Zl", "Zp"))


def _hidden(ch: str) -> bool:
    return unicodedata.category(ch) in _HIDDEN


def printable(text: str) -> str:
    if text.isprintable():
        return text
    text = text.translate(_CONTROL)
    if text.isprintable():
        return text
    return "".join("\ufffd" if _hidden(c) else c for c in text)


def printable_lines(text: str) -> str:
    """`printable` on each line, the line breaks kept."""
    return "\n".join(printable(line) for line in text.split("\n"))


# What json.dumps(ensure_ascii=False) leaves raw and a terminal must not get: DEL, the C1
# controls, and format and separator characters (escaped as \\uXXXX: the JSON is the same).
_JSON_RAW = re.compile("[\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
                       "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
                       "\ufff9-\ufffb]|[\U000110bd\U000110cd\U00013430-\U0001343f"
                       "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
                       "\U000e0020-\U000e007f]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    if code > 0xFFFF:  # a surrogate pair, as JSON spells it
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def json_text(value: Any) -> str:
    """json.dumps for output a person may read on a terminal: UTF-8 kept readable, but
    every control, format and separator character escaped. Encoded as lean_json does (a
    history of years is one such value)."""
    return _JSON_RAW.sub(_escape, lean_json(value, ensure_ascii=False))


LEAN_FROM = 64  # a list longer than this is encoded item by item


def lean_json(value: Any, *, ensure_ascii: bool = True,
              separators: tuple[str, str] | None = None) -> str:
    """json.dumps(value) without indent: the same text, at a third of the memory at its
    peak. One dumps call keeps every token of the whole value alive until it joins them
    (5× the text for `history --json` of 1,235 runs, issue 21's peak-RSS figure); here a list of
    more than LEAN_FROM items is encoded item by item, each item in one call."""
    item_sep, key_sep = separators or (", ", ": ")
    encode = json.JSONEncoder(ensure_ascii=ensure_ascii, separators=(item_sep, key_sep)).encode

    def walk(v: Any) -> str:
        if isinstance(v, dict) and all(isinstance(k, str) for k in v):
            return "{" + item_sep.join(encode(k) + key_sep + walk(x)
                                        for k, x in v.items()) + "}"
        if isinstance(v, list) and len(v) > LEAN_FROM:
            return "[" + item_sep.join(encode(x) for x in v) + "]"
        return encode(v)

    return walk(value)


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
