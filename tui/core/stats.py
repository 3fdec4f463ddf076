"""rclone's transfer statistics, from a JSON `stats` object or a text stats block.

Both forms describe the same numbers; the JSON form is exact, the text form (legacy
wrapper logs, `--log-level INFO` without `--use-json-log`) is humanised and parsed back
into bytes as closely as rclone printed them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TYPE_CHECKING = False  # typing is 2 ms to import (issue 21)
if TYPE_CHECKING:
    from typing import Any


@dataclass(frozen=True, slots=True)
class Transfer:
    """One file in flight, from the stats' `transferring` list."""

    name: str
    size: int
    bytes: int
    percentage: int
    speed: float
    eta: float | None


@dataclass(frozen=True, slots=True)
class Stats:
    """A snapshot of rclone's accounting; every counter is cumulative for the process."""

    bytes: int = 0
    total_bytes: int = 0
    speed: float = 0.0
    eta: float | None = None
    transfers: int = 0
    total_transfers: int = 0
    checks: int = 0
    total_checks: int = 0
    listed: int = 0
    # False when rclone prints no listed count at all (before 1.64: Debian 12's 1.60.1), so
    # a 0 there means "not told", never "nothing listed yet".
    listed_known: bool = True
    deletes: int = 0
    deleted_dirs: int = 0
    renames: int = 0
    errors: int = 0
    fatal_error: bool = False
    retry_error: bool = False
    elapsed: float = 0.0
    server_side_moves: int = 0
    transferring: tuple[Transfer, ...] = field(default_factory=tuple)

    @property
    def percent(self) -> float | None:
        """Bytes done as a percentage of the known total, or None before the total is known."""
        if self.total_bytes <= 0:
            return None
        return min(100.0, 100.0 * self.bytes / self.total_bytes)

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Stats:
        """Build from rclone's `stats` object; unknown or mistyped fields fall back to zero."""
        raw = obj.get("transferring") or ()
        transferring = tuple(
            Transfer(
                name=str(t.get("name", "")),
                size=_as_int(t.get("size")),
                bytes=_as_int(t.get("bytes")),
                percentage=_as_int(t.get("percentage")),
                speed=_float(t.get("speed")),
                eta=_opt_float(t.get("eta")),
            )
            for t in raw
            if isinstance(t, dict)
        )
        return cls(
            bytes=_as_int(obj.get("bytes")),
            total_bytes=_as_int(obj.get("totalBytes")),
            speed=_float(obj.get("speed")),
            eta=_opt_float(obj.get("eta")),
            transfers=_as_int(obj.get("transfers")),
            total_transfers=_as_int(obj.get("totalTransfers")),
            checks=_as_int(obj.get("checks")),
            total_checks=_as_int(obj.get("totalChecks")),
            listed=_as_int(obj.get("listed")),
            listed_known="listed" in obj,
            deletes=_as_int(obj.get("deletes")),
            deleted_dirs=_as_int(obj.get("deletedDirs")),
            renames=_as_int(obj.get("renames")),
            errors=_as_int(obj.get("errors")),
            fatal_error=bool(obj.get("fatalError", False)),
            retry_error=bool(obj.get("retryError", False)),
            elapsed=_float(obj.get("elapsedTime")),
            server_side_moves=_as_int(obj.get("serverSideMoves")),
            transferring=transferring,
        )

    @classmethod
    def from_text(cls, block: str) -> Stats | None:
        """Parse a text stats block (the lines after `INFO  :` up to the blank line).

        Returns None when the block holds no recognisable stats line.
        """
        values: dict[str, Any] = {}
        transferring: list[Transfer] = []
        in_transferring = False
        for line in block.splitlines():
            stripped = line.strip()
            if not stripped:
                continue
            if in_transferring and stripped.startswith("*"):
                t = _parse_text_transfer(stripped)
                if t is not None:
                    transferring.append(t)
                continue
            in_transferring = False
            key, sep, rest = stripped.partition(":")
            if not sep:
                continue
            rest = rest.strip()
            if key == "Transferred":
                _text_transferred(rest, values)
            elif key == "Checks":
                m = _COUNT_PAIR.match(rest)
                if m:
                    values["checks"], values["total_checks"] = int(m[1]), int(m[2])
                listed = _LISTED.search(rest)
                if listed:
                    values["listed"] = int(listed[1])
                elif m:  # a Checks line with no `Listed N`: an rclone that does not count
                    values["listed_known"] = False
            elif key == "Deleted":
                m = _DELETED.match(rest)
                if m:
                    values["deletes"], values["deleted_dirs"] = int(m[1]), int(m[2])
            elif key == "Renamed":
                values["renames"] = _leading_int(rest)
            elif key == "Errors":
                values["errors"] = _leading_int(rest)
                values["fatal_error"] = "fatal" in rest
                values["retry_error"] = "retrying may help" in rest
            elif key == "Elapsed time":
                values["elapsed"] = go_duration(rest)
            elif key == "Server Side Moves":
                values["server_side_moves"] = _leading_int(rest)
            elif key == "Transferring":
                in_transferring = True
        if not values:
            return None
        return cls(transferring=tuple(transferring), **values)


_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "byte": 1,
    "bytes": 1,
    "ki": 1024,
    "kib": 1024,
    "k": 1024,
    "kbytes": 1024,
    "mi": 1024**2,
    "mib": 1024**2,
    "m": 1024**2,
    "mbytes": 1024**2,
    "gi": 1024**3,
    "gib": 1024**3,
    "g": 1024**3,
    "gbytes": 1024**3,
    "ti": 1024**4,
    "tib": 1024**4,
    "t": 1024**4,
    "tbytes": 1024**4,
    "pi": 1024**5,
    "pib": 1024**5,
    "p": 1024**5,
    "pbytes": 1024**5,
}
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)")
_COUNT_PAIR = re.compile(r"^(\d+)\s*/\s*(\d+)")
_LISTED = re.compile(r"Listed (\d+)")
_DELETED = re.compile(r"^(\d+)\s*\(files\),\s*(\d+)\s*\(dirs\)")
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|d|h|m|s)")
_DURATION_SECONDS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_size(text: str) -> int | None:
    """'2.009 MiB' → 2106589; also rclone's pre-1.56 forms ('1.5M', '3 MBytes').

    None when the text is not a size."""
    m = _SIZE.match(text)
    if not m:
        return None
    unit = m[2].lower().removesuffix("/s")
    factor = _SIZE_UNITS.get(unit)
    if factor is None:
        return None
    return int(float(m[1]) * factor)


def go_duration(text: str) -> float:
    """rclone's Go duration ('1h2m3.5s', '2d3h', '0.0s', '250ms') → seconds; 0.0 if unreadable."""
    total = 0.0
    for number, unit in _DURATION_PART.findall(text.strip()):
        total += float(number) * _DURATION_SECONDS[unit]
    return total


def _text_transferred(rest: str, values: dict[str, Any]) -> None:
    # Two lines share the key: bytes ("2.009 MiB / 3.061 MiB, 66%, 0 B/s, ETA -")
    # and files ("20 / 21, 95%"). The bytes form always carries a unit or a speed.
    head, _, tail = rest.partition(",")
    done, slash, total = head.partition("/")
    if not slash:
        return
    if re.fullmatch(r"\s*\d+\s*", done) and re.fullmatch(r"\s*\d+\s*", total) and "/s" not in rest:
        values["transfers"], values["total_transfers"] = int(done), int(total)
        return
    done_bytes, total_bytes = parse_size(done), parse_size(total)
    if done_bytes is None or total_bytes is None:
        return
    values["bytes"], values["total_bytes"] = done_bytes, total_bytes
    parts = [p.strip() for p in tail.split(",")]
    for part in parts:
        if part.endswith("/s"):
            speed = parse_size(part)
            if speed is not None:
                values["speed"] = float(speed)
        elif part.startswith("ETA"):
            eta = part[3:].strip()
            values["eta"] = None if eta in ("", "-") else go_duration(eta)


def _parse_text_transfer(line: str) -> Transfer | None:
    # " *   b/big.bin: 63% /2.861Mi, 2.0Mi/s, 0s"  (forms vary a little across versions)
    body = line.lstrip("* ").rstrip()
    name, sep, rest = body.rpartition(": ")
    if not sep:
        return None
    pct = re.match(r"\s*(\d+)%", rest)
    size_m = re.search(r"/\s*([0-9.]+\s*[A-Za-z]*)", rest)
    speed_m = re.search(r",\s*([0-9.]+\s*[A-Za-z]*)/s", rest)
    size = parse_size(size_m[1]) if size_m else None
    percentage = int(pct[1]) if pct else 0
    return Transfer(
        name=name.strip(),
        size=size or 0,
        bytes=(size or 0) * percentage // 100,
        percentage=percentage,
        speed=float(parse_size(speed_m[1]) or 0) if speed_m else 0.0,
        eta=None,
    )


def _leading_int(text: str) -> int:
    m = re.match(r"\s*(\d+)", text)
    return int(m[1]) if m else 0


def _as_int(value: object) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    return 0


def _float(value: object) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return 0.0


def _opt_float(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None
