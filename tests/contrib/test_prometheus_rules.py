"""contrib/prometheus: the alert rules pass `promtool check rules` and their own unit tests
(`promtool test rules`, Debian's prometheus package), and every space_mirror_* series they
use is one the runner writes."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tui.config import Job
from tui.core import b2audit, rotation
from tui.core.runstate import RunState
from tui.core.stats import Stats
from tui.ops import b2audit as b2audit_ops
from tui.ops.monitor import live_metrics, metrics, notify_apprise, verify_metrics
from tui.ops.monitor.metrics import RunSummary

CONTRIB = Path(__file__).resolve().parents[2] / "contrib" / "prometheus"
RULES = CONTRIB / "space-mirror-rules.yml"


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool not found: apt-get install prometheus (.ci/run does)")
    return found


@pytest.mark.parametrize("args", [["check", "rules", RULES.name],
                                  ["test", "rules", "space-mirror-rules.test.yml"]])
def test_promtool(args: list[str]) -> None:
    out = subprocess.run([promtool(), *args], cwd=CONTRIB, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout + out.stderr


def test_rules_use_only_series_we_write() -> None:
    used = set(re.findall(r"space_mirror_[a-z0-9_]+", RULES.read_text()))
    used = {u for u in used if not u.endswith("_")}
    s = RunSummary(job="j", run_id="r", mode="sync", started=1.0, ended=2.0, exit_code=0,
                   outcome="success", reason=None, bytes=0, transfers=0, checks=0, deletes=0,
                   renames=0, errors=0, extra={"last_success_ended": 2.0})
    audit = b2audit.assess(":b2:b", ":b2:b", [], [], [], [], hard_delete=True)
    live = live_metrics.live_samples(Job(name="j"), RunState(stats=Stats(bytes=1)), 5.0, 9.0,
                                     "v1.75.2")
    state = rotation.advance(rotation.advance(rotation.Rotation(2), 1.0, 1, 0), 1.5, 1, 0)
    cover = rotation.coverage(state, 2.0)
    facts = verify_metrics.VerifyFacts("j", 1.0, 2.0, 0, True, 1, 0, 0, 0, 0, cover)
    written = (metrics.prometheus_text(s) + metrics.in_progress_text("", "j", 3.0)
               + b2audit_ops.b2_text("j", audit, 3.0)
               + live_metrics.merged_text("", "j", live)
               + verify_metrics.verify_text(facts) + notify_apprise.metrics_text("j", 1, 2.0))
    names = set(re.findall(r"^(space_mirror_[a-z0-9_]+)\{", written, re.M))
    assert used and used <= names, used - names
