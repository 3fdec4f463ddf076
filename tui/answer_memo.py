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

When only the live log changed, and only by growing, the memo of an answer that can grow
(every run, unfiltered) is extended by a scan of what was appended (tui/history_extend.py):
one night more costs a scan of that night, not of the years before it.
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

# 2: an extension part (tui/history_extend.py). A new format is a new magic: an old memo
# is then simply not found.
MAGIC = b"space-mirror history memo 2\n"
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
    # A name only: the key itself is compared in full. FNV-1a, not zlib's crc32: loading
    # zlib costs more than hashing the key here.
    h = 0x811C9DC5
    for byte in k:
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return f"answer-{h:08x}-{len(k)}.memo"


def _folder() -> Path | None:
    from tui.ops.history import cache_folder

    return cache_folder()


# --- the fast path: before argparse, the config or the history model load ----------------------
class Memo:
    """A memo as read back: what was printed, and what it was made from."""

    __slots__ = ("code", "err", "ext", "key", "out", "paths", "stamp")

    def __init__(self, key: bytes, code: int, paths: list[str], stamp: str, out: str, err: str,
                 ext: bytes) -> None:
        self.key = key
        self.code = code
        self.paths = paths
        self.stamp = stamp  # one line per path (filestamp.stamp), as they were
        self.out = out
        self.err = err
        self.ext = ext  # what extending it needs (tui/history_extend.py); empty: it cannot


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
    memo = _parse(data, k) if data else None
    if memo is None:
        return None
    now = filestamp.stamp(memo.paths)
    if now != memo.stamp:
        if not memo.ext:
            return None
        from tui import history_extend

        try:
            grown = history_extend.extend(memo, now)
        except Exception:  # growing it is a shortcut: whatever goes wrong, the full read
            grown = None
        if grown is None:
            return None
        memo.out, memo.ext = grown
        memo.stamp = now
        _save(folder, memo, prune=False)  # before printing: a reader that leaves early
        # costs it nothing; one memo replaced by another, no count to keep down
    sys.stdout.write(memo.out)
    sys.stdout.flush()
    if memo.err:
        sys.stderr.write(memo.err)
    return memo.code


def _parse(data: bytes, k: bytes) -> Memo | None:
    if not data.startswith(MAGIC):
        return None
    head_end = data.find(b"\n", len(MAGIC))
    try:
        code, *lengths = (int(n) for n in data[len(MAGIC):head_end].split())
        n_key, n_paths, n_stamp, n_out, n_err, n_ext = lengths
    except ValueError:
        return None
    at = head_end + 1
    parts = []
    for n in (n_key, n_paths, n_stamp, n_out, n_err, n_ext):
        if n < 0:
            return None
        parts.append(data[at:at + n])
        at += n
    if at != len(data) or parts[0] != k:
        return None
    paths = [os.fsdecode(p) for p in parts[1].split(b"\0")] if parts[1] else []
    try:
        return Memo(k, code, paths, parts[2].decode(),
                    parts[3].decode("utf-8", "surrogateescape"),
                    parts[4].decode("utf-8", "surrogateescape"), parts[5])
    except UnicodeError:
        return None


def _save(folder: Path, memo: Memo, prune: bool = True) -> None:
    """Save `memo` (replacing the one of its key). Never raises: a memo not kept only
    costs the next call its full read."""
    from tui.ops import safefile

    try:
        if any("\0" in p for p in memo.paths):
            return
        body = [memo.key, b"\0".join(os.fsencode(p) for p in memo.paths), memo.stamp.encode(),
                memo.out.encode("utf-8", "surrogateescape"),
                memo.err.encode("utf-8", "surrogateescape"), memo.ext]
        if len(body[3]) > MAX_BYTES:
            return
        head = (" ".join(str(n) for n in [memo.code, *(len(b) for b in body)])
                + "\n").encode()
        safefile.write_atomic(folder / _file_name(memo.key), MAGIC + head + b"".join(body),
                              0o600, 0o700, durable=False)
        if prune:
            _prune(folder)
    except (OSError, ValueError, UnicodeError):
        return


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


def keep(argv: Sequence[str], paths: list[str], before: str, printed: Printed,
         log: Path | None = None) -> None:
    """Keep what `argv` printed, when it is `settled`, valid while `paths` stat as `before`
    (taken before the answer was read) and our modules as they are now; with what growing
    it needs when it can grow and `log` is the live log among `paths`. Never raises: a
    memo not kept only costs the next call its full read."""
    try:
        folder = _folder()
        if folder is None or printed.history is None or not settled(printed.history, paths,
                                                                      folder):
            return
        grows = printed.grows and log is not None and str(log) in paths
        if grows:  # loaded before the modules are listed: its code grows the answer later
            from tui import history_extend
        modules = our_modules()
        # What one stamp of paths + modules says: the modules' lines after the paths'.
        stamped = "\n".join(x for x in (before, filestamp.stamp(modules)) if x)
        ext = b""
        if grows:
            ext = history_extend.offer(printed, paths, paths.index(str(log)), before)
        _save(folder, Memo(key(argv), printed.code, paths + modules, stamped, printed.out,
                            printed.err, ext))
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
