"""The incremental index: each file's scan cached by device, inode, size, mtime and head.

Kept with marshal, not JSON: decoding and encoding the index and the answer of years of
nights (1.5 MB) take ~10 ms instead of ~40, paid on every read after a night was appended
(the dashboard's, the runner's at the end of each run). marshal is not meant for bytes that
someone else could have written, and no one else can write these: the folder is the
reader's alone (tui/ops/history.cache_folder through safefile, or the runner's state folder
beside its root-only summary), and the files are replaced whole, never torn. Each file
carries a hash of its payload, checked before marshal sees a byte: a disk error's garbage
(which could ask marshal for a list of 2^31 items) is a corrupt cache, a warning and a new
one, as is a payload another Python's marshal cannot read.
"""

from __future__ import annotations

import contextlib
import marshal
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tui.core.filestamp import stamp
from tui.core.history.files import GzPrefetch, is_gz, open_buffer, open_log
from tui.core.history.model import FileScan, Fragment, HistoryWarning, Run
from tui.core.history.split import scan_range

TYPE_CHECKING = False  # typing is 2 ms to import (issue 21)
if TYPE_CHECKING:
    from typing import Any

try:  # hashlib loads OpenSSL first: 4 ms of every `history`; blake2 is CPython's own module
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - a Python built without it
    from hashlib import blake2b

# 5: the format of a run's lines is read from the lines (fragments cached before could hold
# a JSON run read as text), and the assembled runs are kept (`answer_path`).
# 6: a run that succeeded has no failed files and no skipped deletes (a retried attempt's).
# 7: rclone's `Attempt N/M succeeded` (an ERROR line) is no cause.
# 8: marshal, not JSON (`.marshal` files; the `.json` ones of 7 are orphaned, safe to delete).
CACHE_VERSION = 8
# (The answer's signature became core/filestamp's stamp without a new version: an old one
# simply never matches, and the per-file entries, still valid, are not read again.)
HEAD_BYTES = 4096


# What starts every cache file: the format, then a hash of the payload (blake2b, 16 bytes).
MAGIC = f"space-mirror history cache {CACHE_VERSION}\n".encode()
DIGEST_BYTES = 16


def pack(value: Any) -> bytes:
    payload = marshal.dumps(value)
    return MAGIC + blake2b(payload, digest_size=DIGEST_BYTES).digest() + payload


def unpack(raw: bytes) -> dict[str, Any]:
    """The cache `pack` wrote, a dict of this CACHE_VERSION; ValueError for anything else
    (marshal's own errors too)."""
    start = len(MAGIC) + DIGEST_BYTES
    payload = memoryview(raw)[start:]
    if (not raw.startswith(MAGIC)
            or blake2b(payload, digest_size=DIGEST_BYTES).digest() != raw[len(MAGIC):start]):
        raise ValueError("not a history cache, or damaged")
    try:
        data = marshal.loads(payload)
    except (EOFError, TypeError) as exc:  # a Python whose marshal reads it otherwise
        raise ValueError(str(exc)) from None
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
        raise ValueError("not this version's history cache")
    return data


# --- the cache --------------------------------------------------------------------------------
def cache_path(cache_dir: Path, log: Path) -> Path:
    # blake2b since 2026-12-07 (sha256 needs hashlib): a cache named by the old key is
    # orphaned once, and safe to delete (docs/history.md).
    key = blake2b(str(log.absolute()).encode("utf-8", "surrogateescape"),
                  digest_size=8).hexdigest()
    return cache_dir / f"history-{key}.marshal"


def _head_hash(path: Path, length: int) -> str:
    fd = open_log(path)
    try:
        return blake2b(os.pread(fd, length, 0), digest_size=16).hexdigest()
    finally:
        os.close(fd)


# The caller's safe-file writer (tui/ops/safefile, through tui/ops/history): a folder that
# is the caller's alone, 0600 files, no symlink followed. Core imports nothing of ops.
CacheWriter = Callable[[Path, bytes], None]


class Cache:
    def __init__(self, path: Path | None, warnings: list[HistoryWarning],
                 write: CacheWriter | None = None) -> None:
        self.path = path
        self.write = write
        self.entries: dict[str, dict[str, Any]] = {}
        self.new_entries: dict[str, dict[str, Any]] = {}
        self.dirty = False
        if path is None:
            return
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            warnings.append(HistoryWarning(str(path), None,
                                           f"cannot read the history cache ({exc.strerror}); "
                                           "re-reading the logs"))
            return
        try:
            files = unpack(raw)["files"]
            if not isinstance(files, dict):
                raise ValueError("bad files")
            self.entries = files
        except (ValueError, KeyError, TypeError):
            warnings.append(HistoryWarning(str(path), None,
                                           "the history cache is corrupt; ignored and rebuilt"))
            self.dirty = True

    @staticmethod
    def key(st: os.stat_result) -> str:
        return f"{st.st_dev}:{st.st_ino}"

    def save(self, warnings: list[HistoryWarning]) -> None:
        if self.path is None:
            return
        if not self.dirty and set(self.new_entries) == set(self.entries):
            return
        data = {"version": CACHE_VERSION, "files": self.new_entries}
        write_cache_file(self.path, pack(data), warnings, self.write)


def write_cache_file(path: Path, data: bytes, warnings: list[HistoryWarning],
                     write: CacheWriter | None = None) -> None:
    """Replace `path` with `data` atomically: through the caller's writer, else a private new
    file beside it, renamed."""
    try:
        if write is not None:
            write(path, data)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # What tempfile.mkstemp does, without importing it (and shutil, random…) into
        # every `history` command: a private, new file next to the cache.
        tmp = str(path.parent / f".history-{os.getpid()}-{os.urandom(6).hex()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        warnings.append(HistoryWarning(str(path), None,
                                       f"cannot write the history cache ({exc.strerror})"))


# --- the answer: assembled runs, valid while every file stats the same ------------------------
def answer_path(entries: Path) -> Path:
    """Where the assembled runs for the log whose per-file cache is `entries` are kept."""
    return entries.with_name(entries.stem + ".runs.marshal")


def signature(files: list[Path]) -> list[str]:
    """What must be unchanged for the cached answer to hold: the list of files, and one stat
    of each (core/filestamp, the `history` memo's stamp too)."""
    return [*(str(p) for p in files), stamp(files)]


@dataclass(slots=True)
class Answer:
    """The assembled history as the cache keeps it."""

    runs: list[Run]
    bases: list[str]  # each run's id before a duplicate got its `-N`
    warnings: list[HistoryWarning]
    open_id: list[Any] | None  # [run id or None] when the last run has no end marker
    # Each run's row as the cache file holds it (Run.to_cache), None for a run built or
    # renamed since: a run taken unchanged from the cache is written back as it was read.
    rows: list[list[Any] | None] = field(default_factory=list)

    def cached_rows(self) -> list[list[Any] | None]:
        """`rows`, one per run (None past those given)."""
        return self.rows + [None] * (len(self.runs) - len(self.rows))


def load_answer(path: Path, sig: list[str] | None) -> tuple[Answer, bool] | None:
    """The cached answer and whether it still holds for `sig`; None without one."""
    try:
        data = unpack(path.read_bytes())
        rows = data["runs"]
        answer = Answer([Run.from_cache(r) for r in rows], list(data["bases"]),
                        [HistoryWarning.from_row(w) for w in data["warnings"]],
                        data["open"], rows)
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None
    return answer, sig is not None and data.get("sig") == sig


def save_answer(path: Path, sig: list[str] | None, answer: Answer,
                warnings: list[HistoryWarning], write: CacheWriter | None = None) -> None:
    if sig is None:
        return
    data = {"version": CACHE_VERSION, "sig": sig, "open": answer.open_id,
            "bases": answer.bases,
            "runs": [r.to_cache() if row is None else row
                     for r, row in zip(answer.runs, answer.cached_rows(),
                                       strict=True)],
            "warnings": [w.row() for w in answer.warnings]}
    write_cache_file(path, pack(data), warnings, write)


def _entry_to_scan(entry: dict[str, Any]) -> FileScan:
    return FileScan(
        fragments=[Fragment.from_json(f) for f in entry["fragments"]],
        warnings=[HistoryWarning.from_row(w) for w in entry["warnings"]],
        size=int(entry["size"]),
    )


def _scan_to_entry(scan: FileScan, st: os.stat_result, head_len: int, head: str,
                   kept: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """`scan` as the cache keeps it; `kept`: its first fragments' entries, as read from the
    cache (a grown file's runs before the appended bytes), written back as they were."""
    kept = kept or []
    return {
        "size": scan.size, "mtime_ns": st.st_mtime_ns, "head_len": head_len, "head": head,
        "fragments": kept + [f.to_json() for f in scan.fragments[len(kept):]],
        "warnings": [w.row() for w in scan.warnings],
    }


@dataclass(slots=True)
class _Look:
    """What the cache knows about a file as it is now."""

    st: os.stat_result
    head_len: int
    head: str
    key: str
    entry: dict[str, Any] | None = None  # still valid: the file is unchanged
    prior: FileScan | None = None  # the file only grew: re-scan from its resume offset
    prior_rows: list[dict[str, Any]] | None = None  # its fragments, as the cache holds them


def _look(path: Path, cache: Cache) -> _Look:
    st = os.stat(path)
    head_len = min(HEAD_BYTES, st.st_size)
    look = _Look(st, head_len, _head_hash(path, head_len), Cache.key(st))
    entry = cache.entries.get(look.key)
    if entry is None:
        return look
    try:
        old_len = int(entry["head_len"])
        same_head = old_len <= st.st_size and (
            entry["head"] == look.head if old_len == head_len else
            entry["head"] == _head_hash(path, old_len))
        if same_head and entry["size"] == st.st_size and entry["mtime_ns"] == st.st_mtime_ns:
            look.entry = entry
        elif same_head and not is_gz(path) and st.st_size >= int(entry["size"]):
            look.prior = _entry_to_scan(entry)
            look.prior_rows = entry["fragments"]
    except (KeyError, TypeError, ValueError, OSError):
        pass
    return look


def needs_reading(path: Path, cache: Cache) -> bool:
    """False when the cache answers for `path` as it is now (or it cannot be read at all)."""
    try:
        return _look(path, cache).entry is None
    except OSError:
        return False


def scan_file(path: Path, cache: Cache, warnings: list[HistoryWarning],
              prefetch: GzPrefetch | None = None) -> FileScan | None:
    """One file's fragments, from the cache when it is still valid."""
    try:
        look = _look(path, cache)
    except OSError as exc:
        warnings.append(HistoryWarning(str(path), None, f"cannot read: {exc.strerror}"))
        return None
    if look.entry is not None:
        try:
            scan = _entry_to_scan(look.entry)
            scan.reused_upto = scan.size
            cache.new_entries[look.key] = look.entry
            return scan
        except (KeyError, TypeError, ValueError):
            pass
    prior = look.prior
    cache.dirty = True
    file_warnings: list[HistoryWarning] = []
    kept_rows: list[dict[str, Any]] = []
    try:
        with open_buffer(path, file_warnings, prefetch=prefetch) as buf:
            if prior is None:
                scan = scan_range(str(path), buf, 0, len(buf))
            else:
                resume = prior.resume_offset
                tail = scan_range(str(path), buf, resume, len(buf))
                kept = [f for f in prior.fragments if f.region_end <= resume]
                kept_rows = [row for f, row in zip(prior.fragments, look.prior_rows or [],
                                                   strict=True) if f.region_end <= resume]
                kept_w = [w for w in prior.warnings if w.offset is None or w.offset < resume]
                scan = FileScan(kept + tail.fragments, kept_w + tail.warnings, len(buf),
                                reused_upto=resume)
    except OSError as exc:
        warnings.append(HistoryWarning(str(path), None, f"cannot read: {exc.strerror}"))
        return None
    scan.warnings[:0] = file_warnings
    cache.new_entries[look.key] = _scan_to_entry(scan, look.st, look.head_len, look.head,
                                                 kept_rows)
    return scan
