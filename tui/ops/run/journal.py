"""What a run says: one line to stdout, complaints to stderr (the journal under systemd),
and its markers in the job log. Every log write goes through logfile/safefile (no symlink
followed, ours alone), markers start on a fresh line, the end marker survives a full disk,
and secrets are redacted from all three."""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path
from typing import TextIO

from tui.core.markers import MarkerKind, format_end, format_start, now
from tui.core.text import printable_lines
from tui.ops import credentials, logfile


class Journal:
    def __init__(self, log_file: Path, out: TextIO | None = None,
                 err: TextIO | None = None) -> None:
        self.log_file = log_file
        # Looked up now, not when the module was loaded: contextlib.redirect_stdout works.
        self.out = out if out is not None else sys.stdout
        self.err = err if err is not None else sys.stderr
        self.secrets: frozenset[str] = frozenset()
        self.keep: frozenset[str] = frozenset()  # our own names and paths: never redacted
        self.complained = False  # a log that cannot be written is reported once
        self.unusable = False  # the pre-flight said the log cannot be written at all
        self.log_full = False  # the log's file system filled up: rclone's lines were lost

    def say(self, text: str) -> None:
        # Outside text (file names in reasons) is shown visibly: control and format
        # characters never reach the terminal or the journal raw (issue 20, row 8).
        print(printable_lines(credentials.redact(text, self.secrets, self.keep)),
              file=self.out, flush=True)

    def complain(self, text: str) -> None:
        print(printable_lines(credentials.redact(f"space-mirror: {text}", self.secrets,
                                                 self.keep)),
              file=self.err, flush=True)

    def warn(self, text: str) -> None:
        self.complain(f"warning: {text}")

    def append(self, line: str, fresh_line: bool = False) -> bool:
        """Append one line; `fresh_line`: after a cut-off last line (a full disk), start on
        a new one, so a marker is never glued to the end of someone else's line."""
        data = (credentials.redact(line, self.secrets, self.keep) + "\n").encode(
            "utf-8", "replace")
        try:
            logfile.append_line(self.log_file, data, fresh_line)
        except OSError as exc:  # a full disk must not cost the run its exit code
            # Said once: the start and end markers would otherwise repeat the same complaint.
            if not self.complained:
                self.complained = True
                self.complain(f"cannot write to log {self.log_file}: {exc.strerror or exc}")
            return False
        return True

    def note(self, what: str, text: str, run_id: str) -> None:
        """A line of ours between rclone's: `[time] space-mirror WHAT: TEXT run=ID`."""
        self.append(f"[{now().isoformat(timespec='seconds')}] space-mirror {what}: {text} "
                    f"run={run_id}", fresh_line=True)

    def check_full(self) -> None:
        """Remember (and say, once) that the log's file system is full: rclone's lines are
        being lost, so the counters read from the log fall short."""
        if not self.log_full and logfile.file_system_full(self.log_file):
            self.log_full = True
            self.complain(f"the file system of {self.log_file} is full "
                          f"({os.strerror(errno.ENOSPC)}): rclone's log lines are being lost; "
                          "free space there")

    def start_marker(self, run_id: str, job: str, mode: str, extra: dict[str, str]) -> None:
        self.append(format_start(run_id, job, mode, os.getpid(), now(), extra), fresh_line=True)

    def end_marker(self, kind: MarkerKind, run_id: str, code: int, counters: dict[str, str],
                   reason: str | None) -> None:
        """The end marker, whatever the disk says: into the room reserved for it, then once
        more, then to stderr (the journal under systemd), so the run's end is on record."""
        line = format_end(kind, run_id, code, now(), counters, reason)
        logfile.free_reserve(self.log_file)
        if self.append(line, fresh_line=True) or self.unusable or \
                self.append(line, fresh_line=True):
            return
        self.complain(f"the end marker could not be written to {self.log_file}; "
                      f"here it is instead: {line}")

    def size(self) -> int:
        try:
            return os.stat(self.log_file).st_size
        except OSError:
            return 0
