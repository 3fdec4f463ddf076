"""Dead-man's-switch pings in the Healthchecks convention (healthchecks.io, and the
self-hosted ones that copy it):

    URL/start    when a real sync starts
    URL          when it succeeded
    URL/<code>   when it failed (the exit code, 1-255: Healthchecks marks the check down)

Each ping is a POST whose body is the tail of the run's log (at most 10 KB), with every
secret the runner knows replaced by `***`. A ping has a timeout, is tried once, and a ping
that fails is a warning: it never changes the run's exit code. The URL itself can be a
secret (the check's UUID), so messages name only its host.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from pathlib import Path

from tui.core.markers import START_NEEDLE
from tui.ops import credentials, http

BODY_LIMIT = 10 * 1024
TIMEOUT = 10.0


def target(url: str, event: str, code: int | None = None) -> str:
    """The URL to ping for `start`, `success` or `failure` (with the exit code)."""
    base = url.rstrip("/")
    if event == "start":
        return f"{base}/start"
    if event == "success":
        return base
    return f"{base}/{code if code is not None and 0 < code < 256 else 'fail'}"


def log_tail(log: Path, secrets: Iterable[str], limit: int = BODY_LIMIT) -> bytes:
    """The last `limit` bytes of the log, from this run's start marker when it is in them,
    secrets redacted."""
    try:
        with open(log, "rb") as fh:
            size = fh.seek(0, 2)
            fh.seek(max(0, size - limit))
            data = fh.read(limit)
    except OSError:
        return b""
    start = data.rfind(START_NEEDLE)
    if start >= 0:
        data = data[data.rfind(b"\n", 0, start) + 1:]
    text = credentials.redact(data.decode("utf-8", "replace"), secrets)
    return text.encode("utf-8")[-limit:]


def where(url: str) -> str:
    """What a message may say about the URL: its scheme and host, never its path."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}"


# A redirect is a failed ping (issue 20 row 10): no other host, no other scheme.
_OPENER = http.opener()


def send(url: str, body: bytes, timeout: float = TIMEOUT) -> str | None:
    """POST the body; None on success, else a one-line problem that holds no secret."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        return "ping_url must be an http:// or https:// URL"
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "text/plain; charset=utf-8",
                                              "User-Agent": "space-mirror"})
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            response.read(1024)
    except urllib.error.HTTPError as exc:
        if 300 <= exc.code < 400:  # never followed: root would connect wherever it points
            return f"ping to {where(url)} answered a redirect (HTTP {exc.code}); not followed"
        return f"ping to {where(url)} answered HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"ping to {where(url)} failed: {type(reason).__name__}"
    return None
