"""Issue 20, row 8: bidi overrides, isolates and zero-width characters in a file name are
shown visibly, like control characters, on every surface; JSON output escapes them.

`nobody` names a file in a shared source folder so that it reads as something else
(`invoice\u202efdp.exe` shows as `invoiceexe.pdf`). Root's run, history, status and plan
must never print the raw character; the JSON must still carry the exact name.
"""

from __future__ import annotations

import json
import unicodedata

from .conftest import SYSTEM_PYTHON, as_nobody

NAME = "invoice\u202efdp.exe\u200b\u2066x\u2069"


def hidden(text: str) -> list[str]:
    return [f"U+{ord(c):04X}" for c in text
            if unicodedata.category(c) in ("Cf", "Zl", "Zp", "Cc") and c not in "\n\t"]


def test_row8_format_characters_never_reach_the_terminal_raw(sec_job, run_cli) -> None:
    job = sec_job()
    job.source.chmod(0o777)  # a shared folder being mirrored (a home, an upload area)
    planted = job.source / NAME
    r = as_nobody(SYSTEM_PYTHON, "-c", f"open({str(planted)!r}, 'w').write('x')")
    assert r.returncode == 0, r.stderr
    (job.source / "ok.txt").write_text("ok")
    # The mirror already holds a folder of that name: the copy fails, the name is the reason.
    (job.dest / NAME / "sub").mkdir(parents=True)
    (job.dest / NAME / "sub" / "f").write_text("f")
    cfg = ["--config", str(job.config)]
    plan = run_cli(*cfg, "plan", "--json", "--offline")
    assert plan.returncode == 0, plan.stderr
    assert NAME in json.dumps(json.loads(plan.stdout), ensure_ascii=False)  # exact, escaped
    run = run_cli(*cfg, "run")
    assert run.returncode == 1, (run.returncode, run.stdout, run.stderr)
    assert "invoice" in run.stdout  # the failing file is named, visibly
    outputs = {"plan --json": plan.stdout + plan.stderr, "run": run.stdout + run.stderr}
    for command in (["history"], ["history", "--json"], ["status"], ["status", "--json"]):
        r = run_cli(*cfg, *command)
        outputs[" ".join(command)] = r.stdout + r.stderr
    for what, text in outputs.items():
        assert hidden(text) == [], (what, hidden(text), text)
    history = json.loads(outputs["history --json"].splitlines()[0])
    assert NAME in json.dumps(history, ensure_ascii=False), "the JSON lost the exact name"
