"""`space-mirror status [--json]`: one line of health, with Nagios plugin exit codes.

    0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (docs/monitoring.md says what each means)
"""

from __future__ import annotations

import sys
from typing import TextIO

from tui.config import Job
from tui.core import health
from tui.core.text import json_text, printable
from tui.ops.health import gather


def status_command(job: Job, as_json: bool, now: float | None = None,
                   out: TextIO | None = None, notify: bool = False) -> int:
    stream = out if out is not None else sys.stdout
    facts = gather(job, now)
    verdict = health.evaluate(facts)
    if notify:
        # The state as this status sees it (stale needs no run); never the exit code.
        from tui.ops.monitor.notify_apprise import notify as send_notice

        for warning in send_notice(job, facts):
            print(f"space-mirror: warning: {warning}", file=sys.stderr)
    if as_json:
        answer = health.as_json(facts, verdict)
        from tui.ops.b2audit import last_state  # B2: what the last `audit` found

        if (b2 := last_state(job)) is not None:
            answer["b2"] = b2
        stream.write(json_text(answer) + "\n")
    else:
        # Reasons come from the summary, which the runner redacted when it wrote it.
        stream.write(printable(health.one_line(facts, verdict)) + "\n")
    return verdict.code


def unknown(message: str, as_json: bool) -> int:
    """A status that cannot be told (bad config, internal error): UNKNOWN, one line."""
    if as_json:
        print(json_text({"status": "UNKNOWN", "exit_code": health.UNKNOWN,
                         "reasons": [message]}))
    else:
        print(printable(f"SPACE-MIRROR UNKNOWN - {message}"))
    return health.UNKNOWN
