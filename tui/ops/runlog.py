"""What a run says: one line to stdout, complaints to stderr (the journal under systemd),
and its start and end markers in the log, which survive a full disk."""

from __future__ import annotations

import errno
import os
import time

from tui.core.markers import MarkerKind, format_end, format_start, now
from tui.core.text import printable_lines
from tui.ops import (
    credentials,
    logfile,
)
from tui.ops.runbase import RunnerBase


class RunOutput(RunnerBase):
    """Stdout, stderr and the log's markers; secrets redacted from all three."""

    def say(self, text: str) -> None:  # file names in it: no control or format character raw
        print(printable_lines(credentials.redact(text, self.secrets)), file=self.out, flush=True)

    def complain(self, text: str) -> None:
        print(printable_lines(credentials.redact(f"space-mirror: {text}", self.secrets)),
              file=self.err, flush=True)

    def _append_log(self, line: str, fresh_line: bool = False) -> bool:
        """Append one line; `fresh_line`: after a cut-off last line (a full disk), start on
        a new one, so a marker is never glued to the end of someone else's line."""
        data = (credentials.redact(line, self.secrets) + "\n").encode("utf-8", "replace")
        try:
            logfile.append_line(self.job.log_file, data, fresh_line)
        except OSError as exc:  # a full disk must not cost the run its exit code
            self._log_write_failed(exc)
            return False
        return True

    def _note_log_full(self) -> None:
        """Remember (and say, once) that the log's file system is full: rclone's lines are
        being lost, so the counters read from the log fall short."""
        if logfile.file_system_full(self.job.log_file) and not self._log_full:
            self._log_full = True
            self.complain(f"the file system of {self.job.log_file} is full "
                          f"({os.strerror(errno.ENOSPC)}): rclone's log lines are being lost; "
                          "free space there")

    def _log_write_failed(self, exc: OSError) -> None:
        # Said once: the start and end markers would otherwise repeat the same complaint.
        # Later writes are still tried (a full disk may have room again by the end marker).
        if not self._log_complained:
            self._log_complained = True
            self.complain(f"cannot write to log {self.job.log_file}: {exc.strerror}")

    def _write_start_marker(self) -> None:
        extra = {"by": self.opts.started_by, **self.opts.extra_start_fields,
                 **self._safety_fields}
        line = format_start(self.run_id, self.job.name, self.mode, os.getpid(), now(), extra)
        self._append_log(line, fresh_line=True)

    def _write_end_marker(self, kind: MarkerKind, code: int, reason: str | None) -> None:
        """The end marker, whatever the disk says: into the room reserved for it, then once
        more, then to stderr (the journal under systemd), so the run's end is on record.
        Its `elapsed` is the run's wall time, not rclone's (which stops with its last stats)."""
        counters = {**self.state.counters(),
                    "elapsed": f"{time.monotonic() - self._wall_start:.1f}"}
        line = format_end(kind, self.run_id, code, now(), counters, reason)
        logfile.free_reserve(self.job.log_file)
        if self._append_log(line, fresh_line=True) or self._log_unusable or \
                self._append_log(line, fresh_line=True):
            return
        self.complain(f"the end marker could not be written to {self.job.log_file}; "
                      f"here it is instead: {line}")

    def _log_size(self) -> int:
        try:
            return os.stat(self.job.log_file).st_size
        except OSError:
            return 0
