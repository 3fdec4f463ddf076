"""Exit codes: rclone's (checked against rclone 1.75.2's docs/content/docs.md) and ours.

Ours never overlap rclone's 0–10: they come from sysexits.h (64–78), are 79 (stalled) and
124 (max_duration, like timeout(1)), or are 128+signal.
"""

from __future__ import annotations

from collections.abc import Iterable

OK = 0
MAX_DURATION = 10  # rclone's --max-duration exit, since 1.64 (tui/core/rclone_version.py)
# Our own codes.
USAGE = 64  # EX_USAGE: bad command line or config file syntax
# EX_UNAVAILABLE: the lock has been held longer than the job's max duration; for `bwlimit`,
# no sync of the job runs, or it has no rc socket.
UNAVAILABLE = 69
SOFTWARE = 70  # EX_SOFTWARE: an internal error in space-mirror itself
LOCKED = 75  # EX_TEMPFAIL: another sync of this job holds the lock; try later
CONFIG = 78  # EX_CONFIG: a pre-flight or safety check failed; nothing was started
STALLED = 79  # the stall watchdog stopped rclone: no progress for stall_timeout
TIMED_OUT = 124  # the run passed max_duration and was stopped (timeout(1)'s code)


class ExitMeaning:
    """What an exit code means and what to do. A plain class, not a dataclass: every
    command's --help reads this table, and importing dataclasses (or typing) would cost more
    than the rest of the command line's start (bench/b_startup.py)."""

    __slots__ = ("advice", "code", "meaning", "name", "ours")

    def __init__(self, code: int, name: str, meaning: str, advice: str,
                 ours: bool = False) -> None:
        self.code = code
        self.name = name
        self.meaning = meaning
        self.advice = advice
        self.ours = ours

    def __repr__(self) -> str:
        return f"ExitMeaning({self.code}, {self.name!r})"


_TABLE: dict[int, ExitMeaning] = {
    e.code: e
    for e in (
        ExitMeaning(0, "ok", "Sync completed successfully.", "Nothing to do."),
        ExitMeaning(1, "error", "Error not otherwise categorised.",
                    "Read the ERROR lines of the run; the triage classes say which kind."),
        ExitMeaning(2, "syntax", "Syntax or usage error in the rclone command.",
                    "Check the job's flags and destination string in the config."),
        ExitMeaning(3, "dir-not-found", "Directory not found (usually the source).",
                    "Check that the source exists and is mounted; nothing was deleted."),
        ExitMeaning(4, "file-not-found", "File not found.",
                    "A file vanished during the sync; re-run, and check what changes the source."),
        ExitMeaning(5, "temporary", "Temporary error (one that more retries might fix).",
                    "Re-run later; check the network and the provider's status page."),
        ExitMeaning(6, "no-retry", "Less serious errors (like 461 errors from dropbox).",
                    "Read the ERROR lines; re-running will not fix them by itself."),
        ExitMeaning(7, "fatal", "Fatal error (one that more retries won't fix: auth, quota, "
                    "--max-delete reached).",
                    "Check credentials and quota; if a delete guard stopped it, review the plan."),
        ExitMeaning(8, "max-transfer", "Transfer exceeded --max-transfer.",
                    "Raise --max-transfer or let the next run continue."),
        ExitMeaning(9, "no-transfer", "Operation successful, but no files transferred "
                    "(--error-on-no-transfer).", "Nothing to do unless changes were expected."),
        ExitMeaning(10, "max-duration", "Duration exceeded --max-duration.",
                    "The next run continues where this one stopped."),
        ExitMeaning(USAGE, "usage", "space-mirror was called with bad arguments or config.",
                    "Run `space-mirror --help` and check the config file.", True),
        ExitMeaning(SOFTWARE, "internal", "space-mirror hit an internal error.",
                    "Report it with the log; the error itself did not touch the mirror.", True),
        ExitMeaning(UNAVAILABLE, "lock-stuck", "The job's lock has been held longer than "
                    "the job's maximum duration: a stuck or foreign holder.",
                    "Run `space-mirror check`: it names the holder; stop it.", True),
        ExitMeaning(LOCKED, "locked", "Another sync of this job is running.",
                    "Wait for it, or watch it with `space-mirror`.", True),
        ExitMeaning(STALLED, "stalled", "No progress for stall_timeout; the watchdog stopped "
                    "rclone.", "Check the destination and the network; the next run "
                    "continues where this one stopped.", True),
        ExitMeaning(TIMED_OUT, "timed-out", "The run passed max_duration and was stopped.",
                    "Raise max_duration, or let the next run continue.", True),
        ExitMeaning(CONFIG, "preflight", "A pre-flight or safety check failed; nothing started.",
                    "Run `space-mirror check` and fix what it marks with ✗.", True),
    )
}


# What a Go program prints when it dies of SIGQUIT or a panic (runtime stack dump).
GO_CRASH_NEEDLES = (b"SIGQUIT: quit", b"panic: ", b"goroutine ")
CRASHED = ExitMeaning(2, "crashed", "rclone crashed (SIGQUIT or panic); its stack dump is in "
                      "the log.", "Re-run; if it repeats, report the dump to rclone.")


def is_go_crash_line(line: bytes) -> bool:
    """A line of a Go runtime stack dump (`goroutine 1 [running]:`, `panic: …`)."""
    return line.startswith(GO_CRASH_NEEDLES)


def signal_exit_code(signum: int) -> int:
    return 128 + signum


# 128+SIGINT, 128+SIGTERM: 2 and 15 on every Linux (the signal module, an IntEnum per
# signal, is imported only where a signal's name is wanted).
_ABORTS = (130, 143)


def meaning(code: int | None) -> ExitMeaning:
    """What an exit code means and what to do; unknown codes get a generic answer."""
    if code is None:
        return ExitMeaning(-1, "unknown", "The run has no recorded exit code "
                           "(it was killed, or is still running).",
                           "Check whether rclone is still running; re-run if not.")
    if code in _TABLE:
        return _TABLE[code]
    if code > 128 or code < 0:
        import signal  # only here: enum-heavy, and every command imports this table

        signum = code - 128 if code > 128 else -code
        try:
            name = signal.Signals(signum).name
        except ValueError:
            name = f"signal {signum}"
        if signum in (signal.SIGINT, signal.SIGTERM):
            return ExitMeaning(code, "aborted", f"Stopped by {name}; what rclone had synced "
                               "stays, and partial files may remain until the next run.",
                               "Start the sync again when ready.")
        return ExitMeaning(code, "killed", f"Killed by {name}; partial files may remain at the "
                           "destination.", "Run the sync again: it cleans up the partial files.")
    return ExitMeaning(code, "unknown", f"Unknown exit code {code}.", "Read the log of the run.")


# rclone's ERROR line when --max-duration (the job's window_end) stops a run, in every version.
MAX_DURATION_NEEDLE = "max transfer duration reached as set by --max-duration"


def cutoff_reason(code: int, errors: Iterable[str], has_exit_10: bool,
                  version: str = "") -> str | None:
    """The reason of a run that --max-duration (window_end) stopped, read per rclone version:
    exit 10 since rclone had it; before (Debian 12's 1.60.1) the same cutoff exits 7, the
    code of auth and quota failures, so the code alone must not be read as one of those.
    None when the run did not end that way."""
    if not any(MAX_DURATION_NEEDLE in e for e in errors):
        return None
    what = ("the window ended (rclone's --max-duration): rclone started no new transfer, "
            "finished those in flight")
    if code == MAX_DURATION:
        return f"{what} and exited 10; the next run continues where this one stopped"
    if code == 7 and not has_exit_10:
        return (f"{what} and exited 7, which is how rclone {version or 'before 1.64'} ends a "
                "--max-duration cutoff (it has no exit 10); not an auth, quota or "
                "--max-delete failure; the next run continues where this one stopped")
    return None


def is_abort(code: int | None) -> bool:
    """SIGINT/SIGTERM endings (130, 143): an operator's stop, not a failure."""
    return code in _ABORTS


def codes_text(codes: tuple[int | str, ...]) -> str:
    """The exit codes a command returns, one per line, for its --help (from the table
    above; a string is a line of its own, like `128+N  stopped by signal N`)."""
    lines = ["exit codes:"]
    for code in codes:
        if isinstance(code, str):
            lines.append(f"  {code}")
        else:
            m = meaning(code)
            lines.append(f"  {m.code:<6} {m.meaning}")
    return "\n".join(lines)
