"""`space-mirror fleet [--json]`: every host's jobs, from Prometheus (docs/monitoring.md).

Exit codes as `status`: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN, for the worst row (a host
that stopped answering, or a Prometheus that cannot be read, is UNKNOWN).
"""

from __future__ import annotations

import json
import sys
from typing import TextIO

from tui.config import FleetConfig
from tui.core import fleet, health
from tui.core.text import printable
from tui.core.units import age_text
from tui.ops import prometheus


def read(settings: FleetConfig) -> tuple[prometheus.Client, fleet.Fleet, float]:
    """The client, the fleet now, and the refresh interval. Raises PrometheusError."""
    client = prometheus.Client(settings)
    interval = settings.interval or client.scrape_interval()
    return client, prometheus.read_fleet(client, interval), interval


def table(f: fleet.Fleet) -> list[str]:
    """The rows as text (80 columns): the screen's columns, for output that is no terminal."""
    lines = [f"fleet: {fleet.header(f)}",
             f"{'HOST':<14} {'JOB':<14} {'STATE':<8} {'DETAIL':<20} {'LAST GOOD':>9} "
             f"{'PERS':>5} {'DEBT':>4}"]
    for r in f.rows:
        age = r.last_good_age
        persistent = r.facts.persistent_files
        lines.append(
            f"{printable(r.host)[:14]:<14} {printable(r.job)[:14]:<14} {r.state:<8} "
            f"{printable(r.detail())[:20]:<20} {age_text(age) if age is not None else '—':>9} "
            f"{'—' if persistent is None else persistent:>5} {r.facts.deletes_skipped_runs:>4}")
    return lines


def fleet_command(settings: FleetConfig, as_json: bool, out: TextIO | None = None) -> int:
    stream = out if out is not None else sys.stdout
    try:
        _, f, _ = read(settings)
    except prometheus.PrometheusError as exc:
        if as_json:
            stream.write(json.dumps({"status": "UNKNOWN", "exit_code": health.UNKNOWN,
                                     "reasons": [str(exc)]}) + "\n")
        else:
            print(f"space-mirror: {exc}", file=sys.stderr)
        return health.UNKNOWN
    if as_json:
        stream.write(json.dumps(fleet.rows_json(f, settings.prometheus or ""),
                                ensure_ascii=False) + "\n")
    else:
        stream.write("\n".join(table(f)) + "\n")
    return f.exit_code()
