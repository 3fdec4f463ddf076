"""core/text: what reaches a terminal from outside shows every hidden character visibly."""

from __future__ import annotations

import json
import sys
import unicodedata

from tui.core.text import json_text, printable, printable_lines

HIDDEN = ("Cf", "Zl", "Zp")


def test_format_characters_are_shown_like_control_characters() -> None:
    assert printable("a\u202eb\u200bc\u2066d\u2028e\x1bf\x9bg\th") == \
        "a\ufffdb\ufffdc\ufffdd\ufffde\ufffdf\ufffdg h"
    assert printable("café – ok ✓ 名前") == "café – ok ✓ 名前"  # printable text is untouched
    assert printable_lines("a\u202e\nb") == "a\ufffd\nb"


def test_json_text_escapes_every_format_and_control_character() -> None:
    every = "".join(chr(i) for i in range(sys.maxunicode + 1)
                    if unicodedata.category(chr(i)) in HIDDEN or 0x7f <= i < 0xa0)
    text = json_text({"name": every + "é"})
    assert not [c for c in text if unicodedata.category(c) in (*HIDDEN, "Cc")]
    assert json.loads(text) == {"name": every + "é"}  # the same value, only spelled safely
    assert "é" in text  # readable UTF-8 is kept
