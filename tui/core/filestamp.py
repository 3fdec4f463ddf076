"""What the files an answer was made from must still stat as for the answer to hold: one
home for the history's answer cache (tui/core/history/cache.py) and the `history` command's
printed memo (tui/answer_memo.py), which reads it before anything heavier is imported."""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable


def stamp(paths: Iterable[str | os.PathLike[str]]) -> str:
    """One line per path: device, inode, size, mtime, ctime and mode (ctime and mode move
    with a chmod, which can make a file unreadable without touching its content); `-` for a
    missing path, `!errno` for one that cannot be looked at now."""
    out: list[str] = []
    for path in paths:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            out.append("-")
        except OSError as exc:
            out.append(f"!{exc.errno}")
        else:
            out.append(f"{st.st_dev} {st.st_ino} {st.st_size} {st.st_mtime_ns} "
                       f"{st.st_ctime_ns} {st.st_mode}")
    return "\n".join(out)


def fields(line: str) -> tuple[int, int, int, int, int, int] | None:
    """One `stamp` line read back: device, inode, size, mtime, ctime and mode; None for a
    missing path or one that could not be looked at."""
    parts = line.split()
    if len(parts) != 6:
        return None
    try:
        dev, ino, size, mtime, ctime, mode = (int(x) for x in parts)
    except ValueError:
        return None
    return dev, ino, size, mtime, ctime, mode
