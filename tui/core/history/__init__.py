"""Log files → Run records: the history scanner and its incremental index.

Years of nightly logs are a gigabyte or more, and a Python loop over every line is 7–20×
slower than grep. So the scanner (`scan`) does not parse every line: it reads each file in
fixed windows (`files`) and looks for a few byte needles with `bytes.find`. Each file's
result is cached (`cache`) by device, inode, size, mtime and a hash of its first 4 KiB, and
so are the assembled runs; `assemble` joins the files' fragments into runs (`model`), and
`report` writes a run's triage report.

Nothing in a log stops the scan: junk, NUL bytes, invalid UTF-8, huge lines, a cut-off last
line, missing or unreadable rotated files all become warnings.

The names below are loaded on first use: the dashboard's first frame needs the records
(`model`) only, not the scanner behind them.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing is 2 ms to import (issue 21)

if TYPE_CHECKING:
    from typing import Any

    from tui.core.cachedir import default_cache_dir
    from tui.core.history.assemble import RunningCheck, scan_history
    from tui.core.history.cache import CACHE_VERSION, cache_path
    from tui.core.history.files import log_files, read_span, run_log_lines
    from tui.core.history.model import (
        FileScan,
        Fragment,
        History,
        HistoryWarning,
        LogSpan,
        Run,
    )
    from tui.core.history.persistent import (
        Persistent,
        PersistentFailure,
        dashboard_line,
        describe,
        last_success,
        persistent_at,
        persistent_summary,
    )
    from tui.core.history.report import format_report
    from tui.core.history.scan import scan_bytes

_HOME = {
    "RunningCheck": "assemble", "scan_history": "assemble",
    "CACHE_VERSION": "cache", "cache_path": "cache", "default_cache_dir": "tui.core.cachedir",
    "log_files": "files", "read_span": "files", "run_log_lines": "files",
    "FileScan": "model", "Fragment": "model", "History": "model", "HistoryWarning": "model",
    "LogSpan": "model", "Run": "model",
    "Persistent": "persistent", "PersistentFailure": "persistent",
    "dashboard_line": "persistent", "describe": "persistent", "persistent_at": "persistent",
    "last_success": "persistent",
    "persistent_summary": "persistent",
    "format_report": "report", "scan_bytes": "scan",
}

__all__ = ["CACHE_VERSION", "FileScan", "Fragment", "History", "HistoryWarning", "LogSpan",
           "Persistent", "PersistentFailure", "Run", "RunningCheck", "cache_path",
           "dashboard_line", "default_cache_dir", "describe", "format_report", "last_success",
           "log_files",
           "persistent_at", "persistent_summary", "read_span", "run_log_lines", "scan_bytes",
           "scan_history"]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = home if "." in home else f"{__name__}.{home}"  # a submodule, or its own home
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOME])
