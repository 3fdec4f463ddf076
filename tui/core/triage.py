"""Triage: rclone ERROR lines → a small, fixed vocabulary of causes.

The patterns are fragments of messages that rclone (and the Go runtime and the providers'
APIs it relays) really prints; `tests/fixtures/real_errors/` holds the lines users pasted
into public rclone bug reports that they are checked against.

rclone wraps errors: `Failed to copy: failed to authorize account: Get "…": x509:
certificate signed by unknown authority` is a network (TLS) problem, not an auth one, and
`error reading source root directory: RequestTimeTooSkewed: …` is a clock problem, not a
missing source. So a message is split at its `": "` joints and classed by its innermost
part that names a cause; the detail lines a record carries (the AWS SDK's `status code:
403, request id: …`, go-multierror's `* …`, an XML or HTML error body) come first, since
they are the most specific, except the bare SDK status line, which is only a fallback.
Within one part, the first class whose pattern matches wins (a B2 403 `cap_exceeded` is
quota, not permission).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

CLASSES = ("auth", "network", "rate-limit", "quota", "permission", "source-missing",
           "not-found", "io", "limit", "interrupted", "other")

# Lines that restate an earlier error instead of reporting a new cause. They are still
# ERROR lines (and still counted as such), but classing them would count a cause twice.
_ATTEMPT = re.compile(r"Attempt (\d+)/(\d+) failed with \d+ errors")
_CONSEQUENCE = re.compile(
    r"Attempt \d+/\d+ failed with \d+ errors"
    # rclone logs a retry that went through at ERROR level too: news, not a cause.
    r"|Attempt \d+/\d+ succeeded"
    r"|not deleting (?:files|directories) as there were IO errors"
    r"|Cancelling sync due to fatal error"
    # rclone's note that it gives up retrying: the fatal error itself is its own line.
    r"|Fatal error received - not attempting retries",
    re.IGNORECASE,
)
# rclone's last word on a command, at whatever level (1.6x logs it at NOTICE, older ones
# with no level at all): `Failed to sync: …`, `Failed to copy with 3 errors: last error …`.
# A per-file `x.bin: Failed to copy: …` has an object and is a cause, not this.
_FAILED_COMMAND = re.compile(r"Failed to \w+(?: with \d+ errors)?:")

_PATTERNS: tuple[tuple[str, str], ...] = (
    # The job's own limits stopped rclone (--max-delete: the delete guard; --max-transfer;
    # --max-duration: max_duration or window_end): no fault to repair, a decision to make.
    ("limit", r"--max-delete threshold reached|max transfer (?:limit|duration) reached"),
    ("source-missing", r"error reading source root directory"
                       r"|source directory not found"),
    ("interrupted", r"Signal received|context canceled|interrupted system call"),
    ("quota", r"cap_exceeded|storage_cap|transaction_cap|quota|insufficient storage"
              r"|insufficient_space|no space left on device|\b507\b|disk quota exceeded"
              r"|storage full|too big for remaining disk space|account allowance"),
    ("auth", r"bad_auth_token|expired_auth_token|unauthori[sz]ed|\b401\b|bad_credentials"
             r"|InvalidAccessKeyId|SignatureDoesNotMatch|invalid_?grant"
             r"|does not exist in our records"
             r"|couldn't (?:authorize|authenticate|log ?in)|failed to authori[sz]e"
             r"|cannot fetch token|token expired|token has expired|authentication failed"
             r"|unable to authenticate|Invalid authorization token|ExpiredToken"
             r"|InvalidToken|empty token|RequestTimeTooSkewed"
             r"|difference between the request time|logging in|\blog ?in\b"),
    ("rate-limit", r"\b429\b|too many requests|too_many_\w+|rate ?limit"
                   r"|SlowDown|RequestLimitExceeded|too many (?:api )?calls"
                   r"|service_unavailable|\b503\b|throttl|too busy"),
    ("permission", r"permission denied|access ?denied|access is denied"
                   r"|operation not permitted|\b403\b|forbidden|read-only file system"
                   r"|AllAccessDisabled|insufficient ?permission|\b550\b"),
    ("network", r"connection refused|no such host|connection reset|i/o timeout"
                r"|network is unreachable|no route to host|TLS handshake"
                r"|dial tcp|broken pipe|server misbehaving|timeout awaiting"
                r"|context deadline exceeded|unexpected EOF|timed out|timeout when"
                r"|temporary failure in name resolution|^EOF\.?$|http2: |GOAWAY"
                r"|certificate|x509|bad record MAC|remote error|forcibly closed"
                r"|transport connection broken|network stream|connection lost"
                r"|closed network connection"),
    ("not-found", r"directory not found|object not found|file not found|not ?found"
                  r"|no such file or directory|NoSuchKey|NoSuchBucket|\b404\b"
                  r"|does not exist|cannot find the path"),
    ("io", r"input/output error|not a directory|is a directory|corrupted on transfer"
           r"|source file is being updated|(?:sizes|hash|sums?|md5|sha1) differ"
           r"|(?:sha1|md5|hash) did not match|short write|file changed|checksum"
           r"|read-only|bad file descriptor|stale file handle|too many open files"
           r"|file name too long|device not configured"),
)
# The AWS SDK's detail line: its status code says little that the message above it doesn't.
_SDK_STATUS = re.compile(r"^\s*status code: (\d+)")
_SPLIT = re.compile(r": |\n")
# An error while reading the source's own root: the source is missing, whatever the words.
_SOURCE_ROOT = re.compile(
    r"error reading source root directory|error listing source|^Local file system at ")


@dataclass(frozen=True, slots=True)
class ClassCount:
    """One cause seen in a run: how many ERROR lines, and the first one as an example."""

    cls: str
    count: int
    example: str


def is_consequence(text: str, obj: str | None = None) -> bool:
    """True for rclone's summary lines that repeat an earlier error. `text` is the message
    (or the whole line); `obj` the line's object, when the parser found one."""
    if _CONSEQUENCE.search(text) is not None:
        return True
    return obj is None and _FAILED_COMMAND.match(text) is not None


@functools.cache
def _rules() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Compiled on first use: a history answered from its cache classes nothing."""
    return tuple((name, re.compile(p, re.IGNORECASE)) for name, p in _PATTERNS)


def _match(part: str) -> str | None:
    for name, pattern in _rules():
        if pattern.search(part):
            return name
    return None


def _innermost(text: str) -> str | None:
    for part in reversed(_SPLIT.split(text)):
        part = part.strip()
        if part:
            cls = _match(part)
            if cls is not None:
                return cls
    return None


def classify(message: str, detail: str | None = None, obj: str | None = None) -> str:
    """The cause of one ERROR line: its message (`object: message` is fine too), the detail
    lines that followed it, and its object (`""`, rclone's root, matters for one case)."""
    cls = None
    status = None
    if detail:
        body = []
        for line in detail.split("\n"):
            m = _SDK_STATUS.match(line)
            if m is not None:
                status = status or m[1]
            else:
                body.append(line)
        cls = _innermost("\n".join(body))
    if cls is None:
        cls = _innermost(message)
    if cls is None and status is not None:
        cls = _match(status)
    if cls is None:
        return "other"
    if cls == "not-found" and (
        _SOURCE_ROOT.search(message) is not None
        # No object (none given, or rclone's empty root ``): no file is missing, the source
        # root itself is. `: error reading …` is the text form's empty object left in.
        or (not obj and message.lstrip(": ").startswith("error reading source directory"))
        or (obj is not None and obj.startswith("Local file system at "))
    ):
        return "source-missing"
    return cls


class Tally:
    """The one error-cause counter (the runner's end reason, history and the run detail).

    Counts causes over a run's ERROR lines once each, keeping the first line of each class
    as example. rclone retries a failed sync and logs every error again on each attempt: a
    cause is (class, object), or (class, message) for a line that names no file, and counts
    once however many attempts repeated it. The attempts are kept apart (`attempts`), and so
    are the failing files (`files`, first seen first) and the ERROR lines counted (`lines`)."""

    __slots__ = ("_counts", "_examples", "_files", "_seen", "attempts", "lines",
                 "max_attempts")

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._examples: dict[str, str] = {}
        self._seen: set[tuple[str, str]] = set()
        self._files: dict[str, None] = {}
        self.attempts: int | None = None
        self.max_attempts: int | None = None
        self.lines = 0

    def add(self, message: str, example: str | None = None, detail: str | None = None,
            obj: str | None = None) -> str | None:
        """Record one ERROR line by its message (not the file name: `IMG-401.jpg` is no auth
        error); `example` is the line as shown. Returns the class, or None for a restating
        summary line (an `Attempt N/M failed` one sets `attempts`)."""
        line = message if example is None else example
        attempt = _ATTEMPT.search(line)
        if attempt is not None:
            self.attempts = max(self.attempts or 0, int(attempt[1]))
            self.max_attempts = int(attempt[2])
        # Whether it restates an earlier error is a matter of the whole line: a text log
        # splits "Attempt 1/3 failed with 1 errors and: …" at its ": " as if it named a file.
        # A line shown with more than its message has an object: `x: Failed to copy: …`.
        named = obj is not None or line != message
        if _CONSEQUENCE.search(line) is not None or (not named and is_consequence(message)):
            return None
        self.lines += 1
        cls = classify(message, detail, obj)
        self.count(cls, obj or message, line)
        if obj and not whole_remote(obj):
            self._files.setdefault(obj, None)
        return cls

    def add_record(self, obj: str | None, message: str) -> str | None:
        """One ERROR (or CRITICAL) record as a follower sees it: its object and message."""
        return self.add(message, f"{obj}: {message}" if obj else None, obj=obj)

    @property
    def files(self) -> tuple[str, ...]:
        """The failing files, first seen first."""
        return tuple(self._files)

    def count(self, cls: str, key: str, example: str) -> bool:
        """Count cause `key` of class `cls` once; False when it was counted already."""
        if (cls, key) in self._seen:
            return False
        self._seen.add((cls, key))
        self._counts[cls] = self._counts.get(cls, 0) + 1
        self._examples.setdefault(cls, example)
        return True

    def merge(self, cls: str, count: int, example: str) -> None:
        """Fold in a class counted elsewhere whose causes are not known one by one."""
        self._counts[cls] = self._counts.get(cls, 0) + count
        self._examples.setdefault(cls, example)

    def causes(self) -> list[list[str]]:
        """The (class, key) pairs counted, for a run split by rotation to merge."""
        return [[c, k] for c, k in self._seen]

    def result(self) -> tuple[ClassCount, ...]:
        """Most frequent first; ties in the fixed vocabulary order."""
        order = {c: i for i, c in enumerate(CLASSES)}
        return tuple(
            ClassCount(c, n, self._examples[c])
            for c, n in sorted(self._counts.items(), key=lambda kv: (-kv[1], order[kv[0]]))
        )


def whole_remote(obj: str) -> bool:
    """An object that names a whole remote (`B2 bucket x`, `Local file system at /d`), not a
    file: it is a cause, never a failing file."""
    return (" file system at " in obj or obj.startswith(("S3 bucket ", "B2 bucket "))
            or obj.endswith(" root"))
