"""`space-mirror audit [--json]`: what a B2 destination holds beyond the mirror (hidden
versions, old versions, unfinished large files), whether a lifecycle rule removes it, and
what it costs. Never deletes anything: each finding names the command that would.

Exit codes as `status`: 0 OK (nothing billed that no rule removes), 1 WARNING, 3 UNKNOWN
(not a B2 destination, or the bucket could not be read: one line on stderr).
"""

from __future__ import annotations

import json
import sys
import time
from typing import TextIO

from tui.config import Job
from tui.core import b2audit
from tui.ops import credentials
from tui.ops.b2audit import AuditError, run_audit, write_b2_metrics, write_state


def audit_command(job: Job, as_json: bool, out: TextIO = sys.stdout,
                  err: TextIO = sys.stderr) -> int:
    try:
        audit, jenv = run_audit(job)
    except AuditError as exc:
        if as_json:
            out.write(json.dumps({"status": "UNKNOWN", "exit_code": b2audit.UNKNOWN,
                                  "reasons": [str(exc)]}) + "\n")
        print(f"space-mirror: audit: {exc}", file=err)
        return b2audit.UNKNOWN
    now = time.time()
    warning = write_b2_metrics(job, audit, now) or write_state(job, audit, now)
    if as_json:
        out.write(json.dumps(audit.to_json(), ensure_ascii=False) + "\n")
    else:
        out.write("\n".join(credentials.redact(ln, jenv.secrets) for ln in audit.lines())
                  + "\n")
    if warning:
        print(f"space-mirror: warning: {warning}", file=err)
    return audit.code
