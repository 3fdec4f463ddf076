"""rclone remote strings as we show them: whether a connection string carries a credential
inline (`:s3,secret_access_key=…:bucket`), and the same string with it masked.

Pure text, apart from the credentials' file handling (tui/ops/credentials.py): the
dashboard's first frame shows the destination, and the pre-flight refuses such a job.
"""

from __future__ import annotations

import re

_INLINE_SECRET = re.compile(
    r"(?:^|,)\s*\w*(key|secret|pass|token|account|credentials)\w*\s*=", re.I
)


def inline_secret_in_remote(destination: str) -> bool:
    """True for a connection string that carries a credential (`:s3,secret_access_key=…:`);
    such a value would show in `ps` and in rclone's log lines."""
    if not destination.startswith(":") and "," not in destination.split(":", 1)[0]:
        return False
    params = destination.lstrip(":").split(":", 1)[0]
    return bool(_INLINE_SECRET.search(params.partition(",")[2]))


_PARAM = re.compile(
    r"(?P<name>\w*(?:key|secret|pass|token|account|credentials)\w*)=(?P<value>[^,:]*)", re.I)


def display_remote(destination: str) -> str:
    """The destination as it may be shown: credential parameters of a connection string
    (`:s3,secret_access_key=…:bucket`) masked. Such a job is refused by the pre-flight, but
    its name still appears in titles and headers."""
    if not inline_secret_in_remote(destination):
        return destination
    head, sep, rest = destination.lstrip(":").partition(":")
    masked = _PARAM.sub(lambda m: f"{m['name']}=***", head)
    return (":" if destination.startswith(":") else "") + masked + sep + rest
