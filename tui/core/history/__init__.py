"""Log files → Run records: the history scanner and its incremental index.

Years of nightly logs are a gigabyte or more, and a Python loop over every line is 7–20×
slower than grep. So the scanner (`scan`) does not parse every line: it maps each file
(`files`) and looks for a few byte needles with `bytes.find`. Each file's result is cached
(`cache`) by device, inode, size, mtime and a hash of its first 4 KiB; `assemble` joins the
files' fragments into runs (`model`), and `report` writes a run's triage report.

Nothing in a log stops the scan: junk, NUL bytes, invalid UTF-8, huge lines, a cut-off last
line, missing or unreadable rotated files all become warnings.
"""

from tui.core.history.assemble import RunningCheck, scan_history
from tui.core.history.cache import CACHE_VERSION, cache_path, default_cache_dir
from tui.core.history.files import log_files, read_span, run_log_lines
from tui.core.history.model import FileScan, Fragment, History, HistoryWarning, LogSpan, Run
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

__all__ = [
    "CACHE_VERSION",
    "FileScan",
    "Fragment",
    "History",
    "HistoryWarning",
    "LogSpan",
    "Persistent",
    "PersistentFailure",
    "Run",
    "RunningCheck",
    "cache_path",
    "dashboard_line",
    "default_cache_dir",
    "describe",
    "format_report",
    "last_success",
    "log_files",
    "persistent_at",
    "persistent_summary",
    "read_span",
    "run_log_lines",
    "scan_bytes",
    "scan_history",
]
