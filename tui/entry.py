"""The `space-mirror` command. A `history` asked again with nothing changed is answered
from its memo (tui/answer_memo.py) before the command line's parser, the config or the
history model is imported: one stat per file and one read (issue 21); with one more night
in the log, by a scan of that night (tui/history_extend.py). Everything else, and any memo
that no longer holds, goes through tui.cli."""

from __future__ import annotations

import os
import sys


def entry() -> None:
    args = sys.argv[1:]
    if "history" in args:
        from tui import answer_memo

        try:
            code = answer_memo.replay(args)
            if code is not None:
                sys.stdout.flush()
                sys.stderr.flush()
        except BrokenPipeError:
            raise SystemExit(reader_left()) from None
        if code is not None:
            # Printed, flushed and kept: nothing of ours runs at exit, and tearing down the
            # modules a grown answer imported costs 8 ms, a sixth of the whole call.
            os._exit(code)
    from tui.cli import main

    raise SystemExit(main(args))


def reader_left() -> int:
    """`space-mirror history | head`: the reader left, which is no error of ours. Standard
    output goes to /dev/null, so that Python's flush at exit does not fail again; exit 0."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
