"""The runner's start and end markers: the project's log contract.

They keep the legacy wrapper's prefix so that old greps (`grep 'Starting Space Mirror'`)
still match, and add `key=value` fields that the history and the dashboard read:

    [2026-11-25T03:00:01+00:00] Starting Space Mirror... run=ab12cd job=space-mirror mode=sync pid=1
    [2026-11-25T03:10:07+00:00] Space Mirror Complete. run=ab12cd exit=0 bytes=… elapsed=366.2
    [2026-11-25T03:10:07+00:00] Space Mirror FAILED with exit code 7 run=ab12cd reason="…"
    [2026-11-25T03:10:07+00:00] Space Mirror ABORTED with exit code 143 run=ab12cd reason="…"

The legacy wrapper wrote the same prefixes with `$(date)` inside the brackets and no fields.

`space-mirror verify` (a sampled `rclone check`) writes the same markers with ` verify` after
`Space Mirror`, so greps for sync runs never match a verify, and `mode=verify`:

    [TS] Starting Space Mirror verify... run=cd34 job=space-mirror mode=verify pid=1 sample=5 …
    [TS] Space Mirror verify Complete. run=cd34 exit=0 mode=verify differences=0 missing=0 …
    [TS] Space Mirror verify FAILED with exit code 1 run=cd34 reason="…" mode=verify …
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum

START_TEXT = "Starting Space Mirror..."
COMPLETE_TEXT = "Space Mirror Complete."
FAILED_TEXT = "Space Mirror FAILED with exit code"
ABORTED_TEXT = "Space Mirror ABORTED with exit code"
VERIFY = "verify"  # the mode of a verify run, and the word its markers carry

# Byte needles for scanners that look for markers without parsing every line.
START_NEEDLE = START_TEXT.encode()
END_NEEDLES = (COMPLETE_TEXT.encode(), FAILED_TEXT.encode(), ABORTED_TEXT.encode())


class MarkerKind(StrEnum):
    START = "start"
    COMPLETE = "complete"
    FAILED = "failed"
    ABORTED = "aborted"


@dataclass(frozen=True, slots=True)
class Marker:
    """A parsed start or end marker. `fields` holds every key=value, unparsed, as strings."""

    kind: MarkerKind
    time: datetime | None
    exit_code: int | None = None
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def run_id(self) -> str | None:
        return self.fields.get("run")

    @property
    def legacy(self) -> bool:
        """True for a marker the old bash wrapper wrote (no run id)."""
        return "run" not in self.fields

    @property
    def dry_run(self) -> bool:
        return self.fields.get("mode") == "dry-run"

    @property
    def verify(self) -> bool:
        """A marker of `space-mirror verify` (a sampled check), not of a sync."""
        return self.fields.get("mode") == VERIFY

    def int_field(self, name: str) -> int | None:
        try:
            return int(self.fields[name])
        except (KeyError, ValueError):
            return None

    def float_field(self, name: str) -> float | None:
        try:
            return float(self.fields[name])
        except (KeyError, ValueError):
            return None


_MARKER = re.compile(
    r"^\[(?P<time>[^\]]*)\]\s+(?:(?P<start>Starting Space Mirror(?P<sv> verify)?\.\.\.)"
    r"|(?P<complete>Space Mirror(?P<cv> verify)? Complete\.)"
    r"|Space Mirror(?P<bv> verify)? (?P<bad>FAILED|ABORTED) with exit code (?P<code>-?\d+))"
    r"(?P<rest>.*)$"
)
_FIELD = re.compile(r'(\w[\w-]*)=("(?:[^"\\]|\\.)*"|\S*)')
_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_DATE_OUTPUT = re.compile(
    r"^\w{3}\s+(?P<mon>\w{3})\s+(?P<day>\d{1,2})\s+(?P<hms>\d{1,2}:\d{2}:\d{2})"
    r"(?:\s+(?P<tz>[A-Za-z+\-0-9]+))?\s+(?P<year>\d{4})$"
)


def now() -> datetime:
    return datetime.now(UTC).astimezone()


def format_start(
    run_id: str, job: str, mode: str, pid: int, when: datetime, extra: dict[str, str] | None = None
) -> str:
    fields = {"run": run_id, "job": job, "mode": mode, "pid": str(pid), **(extra or {})}
    head = START_TEXT.replace("Mirror...", "Mirror verify...") if mode == VERIFY else START_TEXT
    return f"[{iso(when)}] {head} {_format_fields(fields)}"


def format_end(
    kind: MarkerKind,
    run_id: str,
    exit_code: int,
    when: datetime,
    counters: dict[str, str],
    reason: str | None = None,
) -> str:
    """One end marker line. `reason` is required in practice for FAILED and ABORTED."""
    fields: dict[str, str] = {"run": run_id}
    if kind is MarkerKind.COMPLETE:
        head = COMPLETE_TEXT
        fields["exit"] = str(exit_code)
    elif kind is MarkerKind.FAILED:
        head = f"{FAILED_TEXT} {exit_code}"
    elif kind is MarkerKind.ABORTED:
        head = f"{ABORTED_TEXT} {exit_code}"
    else:
        raise ValueError(f"not an end marker: {kind}")
    if reason is not None:
        fields["reason"] = reason
    fields.update(counters)
    if fields.get("mode") == VERIFY:
        head = head.replace("Space Mirror ", "Space Mirror verify ", 1)
    return f"[{iso(when)}] {head} {_format_fields(fields)}"


def parse_marker(line: str) -> Marker | None:
    """A marker line → Marker; anything else → None. Never raises."""
    if "Space Mirror" not in line:
        return None
    m = _MARKER.match(line.rstrip("\r\n"))
    if m is None:
        return None
    fields = {k: unquote(v) for k, v in _FIELD.findall(m["rest"])}
    if m["sv"] or m["cv"] or m["bv"]:
        fields["mode"] = VERIFY
    when = parse_marker_time(m["time"])
    if m["start"]:
        return Marker(MarkerKind.START, when, None, fields)
    if m["complete"]:
        code = fields.get("exit", "0")
        exit_code = int(code) if code.lstrip("-").isdigit() else 0
        return Marker(MarkerKind.COMPLETE, when, exit_code, fields)
    kind = MarkerKind.FAILED if m["bad"] == "FAILED" else MarkerKind.ABORTED
    return Marker(kind, when, int(m["code"]), fields)


def parse_marker_time(text: str) -> datetime | None:
    """ISO 8601 (ours) or `date`'s default output in the C locale (the legacy wrapper's)."""
    text = text.strip()
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    m = _DATE_OUTPUT.match(text)
    if m is None:
        return None
    month = _MONTHS.get(m["mon"].lower())
    if month is None:
        return None
    try:
        h, mi, s = (int(x) for x in m["hms"].split(":"))
        naive = datetime(int(m["year"]), month, int(m["day"]), h, mi, s)
    except ValueError:
        return None
    tz = (m["tz"] or "").upper()
    if tz in ("UTC", "GMT", "Z"):
        return naive.replace(tzinfo=UTC)
    offset = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", tz)
    if offset:
        sign = 1 if offset[1] == "+" else -1
        delta = timedelta(hours=int(offset[2]), minutes=int(offset[3]))
        return naive.replace(tzinfo=timezone(sign * delta))
    # A named zone other than UTC (CET, EST …): assume the host's local zone, which is
    # what `date` printed in.
    return naive.astimezone()


def iso(when: datetime | None) -> str | None:
    """ISO 8601 to the second, the markers' own format; None stays None."""
    return None if when is None else when.isoformat(timespec="seconds")


def _format_fields(fields: dict[str, str]) -> str:
    return " ".join(f"{k}={_quote(v)}" for k, v in fields.items())


def _quote(value: str) -> str:
    if value and not any(c in value for c in ' "\\=\n\r\t') and value.isprintable():
        return value
    # json.dumps escapes quotes, backslashes and control characters, and keeps it on one line.
    return json.dumps(value, ensure_ascii=False)


def unquote(value: str) -> str:
    """A quoted value (JSON's or Go's %q, which JSON reads in the common cases) back to
    its text; an unquoted one as it is."""
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        try:
            loaded = json.loads(value)
        except ValueError:
            return value[1:-1]
        return loaded if isinstance(loaded, str) else value[1:-1]
    return value
