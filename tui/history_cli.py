"""`space-mirror history`: placeholder until the history scanner lands (issue 4)."""

from __future__ import annotations

import sys

from tui.config import Job
from tui.core import exitcodes


def history_command(job: Job, as_json: bool, limit: int | None) -> int:
    print("space-mirror history: not available yet", file=sys.stderr)
    return exitcodes.USAGE
