"""`space-mirror plan [--json]`: what the next sync would copy, delete and rename.

Exit codes: 0 the plan is complete; 75 a sync is running; 78 the pre-flight or a source
guard refused (one line each on stderr, nothing on stdout); rclone's own code when the dry
run failed (the plan printed is then partial and says so in its warnings).
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import TextIO

from tui.config import Job
from tui.core import exitcodes
from tui.core.plan import Plan, group_by_top
from tui.core.remotes import display_remote
from tui.core.text import json_text, printable, printable_lines
from tui.core.units import format_bytes
from tui.ops.b2audit import with_delete_meaning
from tui.ops.planner import compute_plan

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def plan_command(job: Job, as_json: bool, offline: bool = False, force: bool = False,
                 out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    if not as_json:
        shown = display_remote(job.destination)
        print(f"space-mirror plan: job {job.name!r} ({job.source} → {shown}); "
              "running the dry run …", file=err, flush=True)
    cancel = threading.Event()
    caught: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        # As `run` does: stop the dry run's rclone and remove the temp log, never orphan them.
        caught.append(signum)
        cancel.set()

    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
    try:
        outcome = compute_plan(job, offline=offline, force=force, cancel=cancel)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if caught:
        print(f"space-mirror: plan stopped by {signal.Signals(caught[0]).name}; its dry run "
              "was stopped", file=err)
        return exitcodes.signal_exit_code(caught[0])
    for problem in outcome.problems:
        print(printable(f"space-mirror: {problem}"), file=err)
    if outcome.plan is None:
        if outcome.code == exitcodes.CONFIG:
            print("space-mirror: nothing was run; fix the above (see docs/safety.md)", file=err)
        return outcome.code
    plan = with_delete_meaning(job, outcome.plan)
    if as_json:
        out.write(json_text(plan.to_json()) + "\n")
    else:
        out.write(printable_lines(format_plan(job, plan)))
    return outcome.code


def format_plan(job: Job, plan: Plan) -> str:
    """The plan for people: totals, the delete guard, the files by top-level folder."""
    lines = [f"Plan for job {job.name!r}: {job.source} → {display_remote(job.destination)}", ""]
    lines.append(f"  copy    {len(plan.copies):>7} file(s)  {format_bytes(plan.copy_bytes)}")
    known = "" if plan.delete_bytes_known else " (some sizes unknown)"
    lines.append(f"  delete  {len(plan.deletes):>7} file(s)  "
                 f"{format_bytes(plan.delete_bytes)}{known}")
    if plan.delete_meaning:
        lines.append(f"          deletes: {plan.delete_meaning}")
    lines.append(f"  rename  {len(plan.renames):>7} file(s)")
    if plan.delete_guard is not None:
        state = "EXCEEDED" if plan.exceeds_guard else "ok"
        lines.append(f"  delete guard: {plan.delete_guard} ({plan.delete_guard_why}) — {state}")
    if plan.empty:
        lines.append("")
        lines.append("Nothing to do: the mirror is up to date.")
    sections: list[tuple[str, list[str]]] = [
        ("Copy", [f.path for f in plan.copies]),
        ("Delete", [f.path for f in plan.deletes]),
        ("Rename", [f"{r.source} → {r.target}" for r in plan.renames]),
    ]
    for title, paths in sections:
        if not paths:
            continue
        lines += ["", f"{title} ({len(paths)})"]
        for folder, items in group_by_top(paths).items():
            lines.append(f"  {folder}/" if folder else "  (top level)")
            lines += [f"    {p}" for p in items]
    if plan.warnings:
        lines.append("")
        lines += [f"warning: {w}" for w in plan.warnings]
    return "\n".join(lines) + "\n"
