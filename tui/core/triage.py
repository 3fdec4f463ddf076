"""Triage: rclone ERROR lines → a small, fixed vocabulary of causes.

The patterns are fragments of messages that rclone (and the Go runtime and the providers'
APIs it relays) really prints: B2's `bad_auth_token` / `cap_exceeded` codes, S3's
`SignatureDoesNotMatch` / `SlowDown`, Go's `dial tcp …: connect: connection refused`, the
local backend's `input/output error`, rclone's own `error reading source root directory` and
`Signal received`. Order matters: the first class whose pattern matches wins, so the most
specific causes come first (a B2 403 `cap_exceeded` is quota, not permission; a 401
`bad_auth_token` is auth, not a generic HTTP error).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CLASSES = ("auth", "network", "rate-limit", "quota", "permission", "source-missing",
           "not-found", "io", "interrupted", "other")

# Lines that restate an earlier error instead of reporting a new cause. They are still
# ERROR lines (and still counted as such), but classing them would count a cause twice.
_CONSEQUENCE = re.compile(
    r"Attempt \d+/\d+ failed with \d+ errors"
    r"|not deleting (?:files|directories) as there were IO errors"
    r"|Failed to sync(?: with \d+ errors)?:"
)

_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("source-missing", r"error reading source root directory"
                           r"|source directory not found"),
        ("interrupted", r"Signal received|context canceled|interrupted system call"),
        ("quota", r"cap_exceeded|storage_cap|transaction_cap|quota|insufficient storage"
                  r"|no space left on device|\b507\b|disk quota exceeded|storage full"),
        ("auth", r"bad_auth_token|expired_auth_token|unauthori[sz]ed|\b401\b|bad_credentials"
                 r"|InvalidAccessKeyId|SignatureDoesNotMatch|invalid_?grant"
                 r"|couldn't (?:authorize|authenticate)|failed to authori[sz]e"
                 r"|oauth2: cannot fetch token|token expired|authentication failed"
                 r"|Invalid authorization token|ExpiredToken|InvalidToken"),
        ("rate-limit", r"\b429\b|too many requests|too_many_requests|rate ?limit"
                       r"|SlowDown|RequestLimitExceeded|too many (?:api )?calls"
                       r"|service_unavailable|\b503\b|throttl"),
        ("permission", r"permission denied|access ?denied|operation not permitted|\b403\b"
                       r"|forbidden|read-only file system|AllAccessDisabled"),
        ("network", r"connection refused|no such host|connection reset|i/o timeout"
                    r"|network is unreachable|no route to host|TLS handshake"
                    r"|dial tcp|broken pipe|server misbehaving|timeout awaiting"
                    r"|context deadline exceeded|unexpected EOF|connection timed out"
                    r"|temporary failure in name resolution|EOF$|http2: "
                    r"|certificate|x509"),
        ("not-found", r"directory not found|object not found|file not found|not found"
                      r"|no such file or directory|NoSuchKey|NoSuchBucket|\b404\b"),
        ("io", r"input/output error|not a directory|is a directory|corrupted on transfer"
               r"|source file is being updated|sizes differ|md5 differ|sha1 differ"
               r"|hash differ|short write|file changed|checksum|can't open|failed to open"
               r"|read-only|bad file descriptor|stale file handle|too many open files"),
    )
)


@dataclass(frozen=True, slots=True)
class ClassCount:
    """One cause seen in a run: how many ERROR lines, and the first one as an example."""

    cls: str
    count: int
    example: str


def is_consequence(text: str) -> bool:
    """True for rclone's summary lines that repeat an earlier error."""
    return _CONSEQUENCE.search(text) is not None


def classify(text: str) -> str:
    """The cause of one ERROR line's text (`object: message` or just the message)."""
    for name, pattern in _RULES:
        if pattern.search(text):
            return name
    return "other"


class Tally:
    """Counts causes over a run's ERROR lines, keeping the first line of each as example."""

    __slots__ = ("_counts", "_examples")

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._examples: dict[str, str] = {}

    def add(self, message: str, example: str | None = None) -> str | None:
        """Record one ERROR line by its message (not the file name: `IMG-401.jpg` is no auth
        error); `example` is the line as shown. Returns the class, or None for a restating
        summary line."""
        line = message if example is None else example
        # Whether it restates an earlier error is a matter of the whole line: a text log
        # splits "Attempt 1/3 failed with 1 errors and: …" at its ": " as if it named a file.
        if is_consequence(line):
            return None
        cls = classify(message)
        self._counts[cls] = self._counts.get(cls, 0) + 1
        self._examples.setdefault(cls, line)
        return cls

    def merge(self, cls: str, count: int, example: str) -> None:
        """Fold in a class counted elsewhere (another fragment of the same run)."""
        self._counts[cls] = self._counts.get(cls, 0) + count
        self._examples.setdefault(cls, example)

    def result(self) -> tuple[ClassCount, ...]:
        """Most frequent first; ties in the fixed vocabulary order."""
        order = {c: i for i, c in enumerate(CLASSES)}
        return tuple(
            ClassCount(c, n, self._examples[c])
            for c, n in sorted(self._counts.items(), key=lambda kv: (-kv[1], order[kv[0]]))
        )
