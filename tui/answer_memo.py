"""`space-mirror history`'s printed answer, kept so that asking again costs one stat per file.

The history cache (tui/core/history/cache.py) already keeps the assembled runs; reading them
back, importing the config and the history model to do it, and printing 1,000 runs again was
still three times `--version` (issue 21). This memo keeps what the command printed, keyed by
everything the answer can depend on, and is checked before the command line's parser loads:

- the key: the arguments, the working folder (a relative `--log`), the user, the version
  and the environment that picks the config, the cache or how times and text are shown;
- the stamp: device, inode, size, mtime, ctime and mode of every file the answer was made
  from (the config, or where the system config would be; each log file; the log's folder, so
  a new rotation shows; /etc/localtime; and our own modules that made it), taken *before*
  the history was read: a log appended to while it was read leaves a stamp that no longer
  matches, so the next call reads it again, never a stale answer.

An answer that depends on the moment is never kept: a run still open at the end of the log
(running or not is the process table's answer), the filters (`--since` may be relative), a
warning about the cache itself. The memo lives in the history cache's private folder and is
read only when that folder and the file are this user's alone (tui/ops/safefile.py): another
user cannot plant an answer for root to print.
"""

from __future__ import annotations

import os
import sys

from tui import __version__
from tui.core import filestamp

TYPE_CHECKING = False  # typing costs more than the memo's whole read
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from pathlib import Path

    from tui.core.history import History
    from tui.history_cli import Printed

# 1: the first format. A new one is a new magic: an old memo is then simply not found.
MAGIC = b"space-mirror history memo 1\n"
_ENV_NAMES = frozenset({"TZ", "LANG", "LANGUAGE", "HOME"})
_ENV_PREFIXES = ("SPACE_MIRROR_", "LC_", "PYTHON", "XDG_")
LOCALTIME = "/etc/localtime"
MAX_BYTES = 256 << 20  # an answer larger than this is printed, not kept
KEEP_AT_MOST = 16  # memo files per folder: one per command line asked lately


def key(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> bytes:
    """Everything outside the files that can change what `argv` prints."""
    env = os.environ if environ is None else environ
    chosen = sorted((k, v) for k, v in env.items()
                    if k in _ENV_NAMES or k.startswith(_ENV_PREFIXES))
    whole = (__version__, list(argv), os.getcwd(), os.geteuid(), chosen)
    return repr(whole).encode("utf-8", "surrogateescape")


def _file_name(k: bytes) -> str:
    import zlib  # a name only: the key itself is compared in full

    return f"answer-{zlib.crc32(k):08x}-{len(k)}.memo"


def _folder() -> Path | None:
    from tui.ops.history import cache_folder

    return cache_folder()


# --- the fast path: before argparse, the config or the history model load ----------------------
def replay(argv: Sequence[str]) -> int | None:
    """Print the kept answer for `argv` and return its exit code, or None (nothing printed)
    when there is none that still holds."""
    from tui.ops import safefile

    try:
        k = key(argv)
        folder = _folder()
        if folder is None:
            return None
        data = safefile.read_private(folder / _file_name(k), MAX_BYTES + (1 << 20))
    except (OSError, ValueError):  # UnsafeFile included: then the command says it, slowly
        return None
    kept = _parse(data, k) if data else None
    if kept is None:
        return None
    code, out, err = kept
    sys.stdout.write(out)
    sys.stdout.flush()
    if err:
        sys.stderr.write(err)
    return code


def _parse(data: bytes, k: bytes) -> tuple[int, str, str] | None:
    if not data.startswith(MAGIC):
        return None
    head_end = data.find(b"\n", len(MAGIC))
    try:
        code, *lengths = (int(n) for n in data[len(MAGIC):head_end].split())
        n_key, n_paths, n_stamp, n_out, n_err = lengths
    except ValueError:
        return None
    at = head_end + 1
    parts = []
    for n in (n_key, n_paths, n_stamp, n_out, n_err):
        parts.append(data[at:at + n])
        at += n
    if at != len(data) or parts[0] != k:
        return None
    paths = [os.fsdecode(p) for p in parts[1].split(b"\0")] if parts[1] else []
    if filestamp.stamp(paths).encode() != parts[2]:
        return None
    return (code, parts[3].decode("utf-8", "surrogateescape"),
            parts[4].decode("utf-8", "surrogateescape"))


# --- the slow path keeps what it printed -------------------------------------------------------
def watched(config: Path | None, system_config: Path, log_files: Iterable[Path],
            log: Path) -> list[str]:
    """The files an answer about `log` is made from, apart from our modules."""
    paths = [str(config if config is not None else system_config), LOCALTIME,
             os.path.dirname(os.path.abspath(log)) or "/", str(log), *map(str, log_files)]
    return list(dict.fromkeys(paths))  # once each, in order (the log is among its files)


def our_modules() -> list[str]:
    """The source of every module of ours loaded now: a changed one may print otherwise."""
    files = [getattr(m, "__file__", None) for name, m in list(sys.modules.items())
             if name == "tui" or name.startswith("tui.")]
    return sorted({f for f in files if f})


def settled(history: History, paths: list[str], folder: Path) -> bool:
    """Whether an answer stays true while its files do: no run open at the end of the log
    (running or not is the process table's answer), no file read that was not watched, and
    no complaint about the cache in `folder` (a passing state of it, not of the log)."""
    from tui.core.runstate import Outcome

    if history.runs and history.runs[-1].outcome in (Outcome.RUNNING, Outcome.INCOMPLETE):
        return False
    known = set(paths)  # years of daily rotations are a thousand files
    if any(str(f) not in known for f in history.files):
        return False
    inside = os.path.join(folder, "")
    return not any(w.file.startswith(inside) for w in history.warnings)


def keep(argv: Sequence[str], paths: list[str], before: str, printed: Printed) -> None:
    """Keep what `argv` printed, when it is `settled`, valid while `paths` stat as `before`
    (taken before the answer was read) and our modules as they are now. Never raises: a
    memo not kept only costs the next call its full read."""
    from tui.ops import safefile

    try:
        folder = _folder()
        if folder is None or printed.history is None or not settled(printed.history, paths,
                                                                      folder):
            return
        modules = our_modules()
        all_paths = paths + modules
        # What one stamp of paths + modules says: the modules' lines after the paths'.
        stamped = "\n".join(x for x in (before, filestamp.stamp(modules)) if x).encode()
        if any("\0" in p for p in all_paths):
            return
        body = [key(argv), b"\0".join(os.fsencode(p) for p in all_paths), stamped,
                printed.out.encode("utf-8", "surrogateescape"),
                printed.err.encode("utf-8", "surrogateescape")]
        if len(body[3]) > MAX_BYTES:
            return
        head = (" ".join(str(n) for n in [printed.code, *(len(b) for b in body)])
                + "\n").encode()
        safefile.write_atomic(folder / _file_name(body[0]), MAGIC + head + b"".join(body),
                              0o600, 0o700, durable=False)
        _prune(folder)
    except (OSError, ValueError, UnicodeError):
        return


def _prune(folder: Path) -> None:
    """At most KEEP_AT_MOST memos: the oldest go (a `--limit` tried once must not stay)."""
    memos: list[tuple[int, str]] = []
    with os.scandir(folder) as it:
        for entry in it:
            if entry.name.startswith("answer-") and entry.name.endswith(".memo"):
                try:
                    memos.append((entry.stat(follow_symlinks=False).st_mtime_ns, entry.path))
                except OSError:
                    continue
    for _, path in sorted(memos)[:-KEEP_AT_MOST]:
        try:
            os.unlink(path)
        except OSError:
            continue
