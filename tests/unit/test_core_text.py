"""core/text: what reaches a terminal from outside shows every hidden character visibly."""

from __future__ import annotations

import json
import sys
import unicodedata

import pytest

from tui.core.text import json_text, lean_json, printable, printable_lines

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


# -- lean_json: json.dumps's text, item by item --------------------------------------------------
LEAN_VALUES = [
    {}, [], "x", 1.5, None, True,
    {"runs": [{"id": f"r{i}", "n": i, "tags": ["a"] * (i % 3)} for i in range(200)],
     "nested": {"deep": [[i, str(i)] for i in range(100)], "empty": {}}, "x": []},
    [{"é": "\u202e\x00\u2028", "k": [1] * 70}] * 70,
    {1: "int key", "s": list(range(65))},  # json.dumps turns the int key into "1"
    [float("nan"), float("inf")] * 40,
]


@pytest.mark.parametrize("value", LEAN_VALUES)
@pytest.mark.parametrize("ascii_only", [True, False])
@pytest.mark.parametrize("separators", [None, (",", ":")])
def test_lean_json_is_json_dumps(value: object, ascii_only: bool,
                                 separators: tuple[str, str] | None) -> None:
    assert lean_json(value, ensure_ascii=ascii_only, separators=separators) == json.dumps(
        value, ensure_ascii=ascii_only, separators=separators)


def test_json_text_is_unchanged_by_lean_encoding() -> None:
    value = {"runs": [{"name": "a\u202eb", "n": i} for i in range(100)]}
    expected = json.dumps(value, ensure_ascii=False).replace("\u202e", "\\u202e")
    assert json_text(value) == expected
