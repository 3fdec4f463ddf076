"""What a B2 bucket holds beyond the mirror, what it costs, and what removes it. Pure.

B2 keeps every version of a file. An overwrite keeps the old version; a delete without hard
delete only hides the file (its last version stays); a large upload that was interrupted
leaves an unfinished large file whose parts stay. All of it is billed like live data until
a lifecycle rule or a cleanup removes it (docs/b2.md).

The model is built from what rclone shows (`rclone lsjson --b2-versions`: old versions
carry a `-vYYYY-MM-DD-HHMMSS-mmm` suffix before the extension; `rclone lsjson`: the live
files; `rclone backend lifecycle`: the rules) and from B2's own list of unfinished large
files with their parts (rclone lists no parts). Nothing here deletes anything: each
finding comes with the command an operator may run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tui.core.units import format_bytes

# B2's pay-as-you-go list price per TB-month (10^12 bytes), docs/b2.md says since when.
DEFAULT_PRICE_PER_TB_MONTH = 6.95
TB = 10**12
# rclone's version suffix: name-v2026-12-07-012923-439.ext (UTC upload time, ms).
_VERSION = re.compile(r"-v(\d{4})-(\d\d)-(\d\d)-(\d\d)(\d\d)(\d\d)-(\d{3})(?=(\.[^./]*)?$)")

OK, WARNING, UNKNOWN = 0, 1, 3


def strip_version(path: str) -> tuple[str, str | None]:
    """'d/over-v2026-12-07-012923-416.txt' → ('d/over.txt', '2026-12-07T01:29:23.416Z');
    a name without rclone's version suffix → (path, None)."""
    folder, sep, name = path.rpartition("/")
    m = _VERSION.search(name)
    if m is None:
        return path, None
    y, mo, d, h, mi, s, ms = m.groups()[:7]
    plain = name[:m.start()] + name[m.end():]
    return f"{folder}{sep}{plain}", f"{y}-{mo}-{d}T{h}:{mi}:{s}.{ms}Z"


@dataclass(frozen=True)
class Unfinished:
    """An unfinished large file, from B2: its name, start time (ms) and parts' bytes."""

    name: str
    file_id: str
    started_ms: int
    bytes: int


@dataclass(frozen=True)
class LifecycleCover:
    """What the bucket's lifecycle rules will remove (rules whose prefix covers the job)."""

    hide_days: int | None  # daysFromHidingToDeleting
    cancel_days: int | None  # daysFromStartingToCancelingUnfinishedLargeFiles
    known: bool = True  # False when the rules could not be read

    @property
    def removes_versions(self) -> bool:
        return self.hide_days is not None and self.hide_days > 0

    @property
    def removes_unfinished(self) -> bool:
        return self.cancel_days is not None and self.cancel_days > 0


def lifecycle_cover(rules: Sequence[Mapping[str, Any]] | None, prefix: str = "") -> LifecycleCover:
    """The rules that apply to every file under `prefix` (a rule's fileNamePrefix must be a
    prefix of it); the shortest delay of each kind wins."""
    if rules is None:
        return LifecycleCover(None, None, known=False)
    hide: list[int] = []
    cancel: list[int] = []
    for rule in rules:
        if not prefix.startswith(str(rule.get("fileNamePrefix") or "")):
            continue
        h = rule.get("daysFromHidingToDeleting")
        c = rule.get("daysFromStartingToCancelingUnfinishedLargeFiles")
        if isinstance(h, int) and h > 0:
            hide.append(h)
        if isinstance(c, int) and c > 0:
            cancel.append(c)
    return LifecycleCover(min(hide, default=None), min(cancel, default=None))


@dataclass(frozen=True)
class Finding:
    kind: str  # "hidden", "old-versions", "unfinished"
    count: int
    bytes: int
    covered: bool  # a lifecycle rule will remove them
    text: str
    remedy: str
    oldest: str | None = None  # ISO time of the oldest one, when known


@dataclass(frozen=True)
class Audit:
    destination: str
    live_count: int
    live_bytes: int
    hidden_count: int  # versions of files that are deleted (hidden) in the mirror
    hidden_bytes: int
    old_count: int  # older versions of files that are live
    old_bytes: int
    unfinished: tuple[Unfinished, ...]
    cover: LifecycleCover
    hard_delete: bool
    price_per_tb_month: float
    findings: tuple[Finding, ...] = field(default=())

    @property
    def unfinished_bytes(self) -> int:
        return sum(u.bytes for u in self.unfinished)

    @property
    def extra_bytes(self) -> int:
        """Billed bytes that are not the mirror: hidden and old versions, unfinished parts."""
        return self.hidden_bytes + self.old_bytes + self.unfinished_bytes

    def cost(self, nbytes: int) -> float:
        return nbytes / TB * self.price_per_tb_month

    @property
    def code(self) -> int:
        """Nagios-style: WARNING when something is billed that no rule will ever remove."""
        if not self.cover.known and self.extra_bytes:
            return WARNING
        return WARNING if any(not f.covered for f in self.findings) else OK

    def to_json(self) -> dict[str, Any]:
        oldest = min((u.started_ms for u in self.unfinished), default=None)
        return {
            "destination": self.destination,
            "status": {OK: "OK", WARNING: "WARNING"}[self.code],
            "exit_code": self.code,
            "live": {"count": self.live_count, "bytes": self.live_bytes},
            "hidden_versions": {"count": self.hidden_count, "bytes": self.hidden_bytes},
            "old_versions": {"count": self.old_count, "bytes": self.old_bytes},
            "unfinished_large_files": {
                "count": len(self.unfinished), "bytes": self.unfinished_bytes,
                "oldest_started_ms": oldest,
                "files": [{"name": u.name, "bytes": u.bytes, "started_ms": u.started_ms}
                          for u in self.unfinished]},
            "lifecycle": {"known": self.cover.known,
                          "days_from_hiding_to_deleting": self.cover.hide_days,
                          "days_from_starting_to_canceling_unfinished": self.cover.cancel_days},
            "hard_delete": self.hard_delete,
            "price_per_tb_month": self.price_per_tb_month,
            "monthly_cost": {"live": round(self.cost(self.live_bytes), 4),
                             "extra": round(self.cost(self.extra_bytes), 4)},
            "findings": [{"kind": f.kind, "count": f.count, "bytes": f.bytes,
                          "covered_by_lifecycle": f.covered, "text": f.text,
                          "remedy": f.remedy} for f in self.findings],
        }

    def lines(self) -> list[str]:
        """For people: one line per fact, then each finding with its remedy."""
        price = f"${self.price_per_tb_month:g}/TB-month"
        out = [f"B2 audit of {self.destination} (nothing was changed)",
               f"  live files        {self.live_count:>7}  {format_bytes(self.live_bytes):>10}"
               f"  ${self.cost(self.live_bytes):.2f}/month",
               f"  hidden versions   {self.hidden_count:>7}  {format_bytes(self.hidden_bytes):>10}",
               f"  old versions      {self.old_count:>7}  {format_bytes(self.old_bytes):>10}",
               f"  unfinished large  {len(self.unfinished):>7}  "
               f"{format_bytes(self.unfinished_bytes):>10}",
               f"  beyond the mirror: {format_bytes(self.extra_bytes)}, "
               f"${self.cost(self.extra_bytes):.2f}/month at {price}",
               f"  lifecycle: {lifecycle_text(self.cover)}",
               f"  hard delete: {'on' if self.hard_delete else 'off'}"]
        for f in self.findings:
            mark = "✓" if f.covered else "!"
            out.append(f"{mark} {f.text}")
            out.append(f"    remedy: {f.remedy}")
        if not self.findings:
            out.append("✓ nothing is billed beyond the mirror's live files")
        return out


def lifecycle_text(cover: LifecycleCover) -> str:
    if not cover.known:
        return "unknown (the rules could not be read)"
    parts = []
    if cover.removes_versions:
        parts.append(f"hidden versions deleted {cover.hide_days} day(s) after hiding")
    if cover.removes_unfinished:
        parts.append(f"unfinished large files cancelled after {cover.cancel_days} day(s)")
    return "; ".join(parts) if parts else "no rule removes old versions or unfinished uploads"


def lifecycle_command(remote: str, cover: LifecycleCover) -> str:
    """The one command that sets both rules (rclone replaces the rules whole, so a command
    that set only one would drop the other)."""
    hide = cover.hide_days if cover.removes_versions else 1
    cancel = cover.cancel_days if cover.removes_unfinished else 1
    return (f"rclone backend lifecycle {remote} -o daysFromHidingToDeleting={hide} "
            f"-o daysFromStartingToCancelingUnfinishedLargeFiles={cancel}")


def assess(destination: str, remote: str, live: Iterable[Mapping[str, Any]],
          versions: Iterable[Mapping[str, Any]], unfinished: Iterable[Unfinished],
          rules: Sequence[Mapping[str, Any]] | None, hard_delete: bool,
          price_per_tb_month: float = DEFAULT_PRICE_PER_TB_MONTH) -> Audit:
    """`live`/`versions`: rclone lsjson entries (Path, Size, ID) of the job's destination
    without and with --b2-versions; `remote` the bucket's root (`:b2:bucket`) for commands."""
    unfinished = tuple(sorted(unfinished, key=lambda u: (u.started_ms, u.name)))
    unfinished_ids = {u.file_id for u in unfinished}
    live_entries = [e for e in live if not e.get("IsDir")]
    live_ids = {str(e.get("ID")) for e in live_entries if e.get("ID")}
    live_names = {str(e["Path"]) for e in live_entries}
    hidden_count = hidden_bytes = old_count = old_bytes = 0
    hidden_oldest: str | None = None
    for e in versions:
        if e.get("IsDir") or str(e.get("ID")) in live_ids or str(e.get("ID")) in unfinished_ids:
            continue
        base, when = strip_version(str(e["Path"]))
        size = max(0, int(e.get("Size") or 0))
        if when is None:
            continue  # the current version of a live file listed under another id
        if base in live_names:
            old_count += 1
            old_bytes += size
        else:
            hidden_count += 1
            hidden_bytes += size
            hidden_oldest = when if hidden_oldest is None else min(hidden_oldest, when)
    cover = lifecycle_cover(rules)
    audit = Audit(destination, len(live_entries),
                  sum(max(0, int(e.get("Size") or 0)) for e in live_entries),
                  hidden_count, hidden_bytes, old_count, old_bytes, unfinished, cover,
                  hard_delete, price_per_tb_month)
    return _with_findings(audit, remote, hidden_oldest)


def _with_findings(a: Audit, remote: str, hidden_oldest: str | None) -> Audit:
    from dataclasses import replace

    findings: list[Finding] = []
    cost = a.cost
    rule = lifecycle_command(remote, a.cover)
    if a.hidden_count:
        text = (f"{a.hidden_count} hidden version(s) of deleted files, "
                f"{format_bytes(a.hidden_bytes)} (${cost(a.hidden_bytes):.2f}/month)")
        if a.cover.removes_versions:
            findings.append(Finding("hidden", a.hidden_count, a.hidden_bytes, True,
                                    text + f": the lifecycle rule deletes them "
                                    f"{a.cover.hide_days} day(s) after hiding",
                                    "nothing to do; to restore one first: "
                                    f"rclone lsf --b2-versions {remote}", hidden_oldest))
        else:
            findings.append(Finding(
                "hidden", a.hidden_count, a.hidden_bytes, False,
                text + ": kept and billed forever (no lifecycle rule)",
                f"{rule}   (or at once: rclone backend cleanup-hidden {remote})",
                hidden_oldest))
    if a.old_count:
        text = (f"{a.old_count} old version(s) of live files (overwritten), "
                f"{format_bytes(a.old_bytes)} (${cost(a.old_bytes):.2f}/month)")
        if a.cover.removes_versions:
            findings.append(Finding("old-versions", a.old_count, a.old_bytes, True,
                                    text + f": the lifecycle rule deletes them "
                                    f"{a.cover.hide_days} day(s) after the overwrite",
                                    "nothing to do"))
        else:
            findings.append(Finding(
                "old-versions", a.old_count, a.old_bytes, False,
                text + ": kept and billed forever (no lifecycle rule)",
                f"{rule}   (or at once: rclone cleanup {remote})"))
    if a.unfinished:
        n, nbytes = len(a.unfinished), a.unfinished_bytes
        text = (f"{n} unfinished large file(s), {format_bytes(nbytes)} "
                f"(${cost(nbytes):.2f}/month), the oldest {a.unfinished[0].name!r}")
        oldest = _iso_ms(a.unfinished[0].started_ms)
        if a.cover.removes_unfinished:
            findings.append(Finding("unfinished", n, nbytes, True,
                                    text + f": the lifecycle rule cancels them after "
                                    f"{a.cover.cancel_days} day(s)", "nothing to do", oldest))
        else:
            findings.append(Finding(
                "unfinished", n, nbytes, False,
                text + ": kept and billed until cleaned up (no lifecycle rule)",
                f"rclone backend cleanup {remote} -o max-age=24h   (or for good: {rule})",
                oldest))
    return replace(a, findings=tuple(findings))


def _iso_ms(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")


def hard_delete_on(flags: Sequence[str], env: Mapping[str, str]) -> bool:
    """rclone's b2 hard_delete as the sync will see it: the last --b2-hard-delete[=bool]
    flag, else RCLONE_B2_HARD_DELETE, else rclone's default (off)."""
    value: str | None = None
    for flag in flags:
        name, eq, rest = flag.partition("=")
        if name == "--b2-hard-delete":
            value = rest if eq else "true"
    if value is None:
        value = env.get("RCLONE_B2_HARD_DELETE", "false")
    return value.strip().lower() in ("1", "true", "yes", "on")


def delete_meaning(backend: str, hard_delete: bool) -> str | None:
    """What a delete in the plan does to the data on this destination (None: a plain
    delete, nothing to say)."""
    if backend != "b2":
        return None
    if hard_delete:
        return ("B2 with hard delete: each delete is permanent (B2 keeps no copy; a file "
                "overwritten before keeps its older version, which the next sync deletes)")
    return ("B2 without hard delete: each delete hides the file; its last version stays, "
            "billed, until the bucket's lifecycle rule removes it (`space-mirror check` "
            "says whether there is one)")
