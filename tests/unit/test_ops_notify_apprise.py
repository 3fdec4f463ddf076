"""tui/ops/monitor/notify_apprise.py without a network: which URLs and secrets, and what is
remembered when a change of state is not told (notify_on)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui.config import Job
from tui.core.health import Facts, LastRun
from tui.ops.monitor import notify_apprise as na

HOUR = 3600.0


def job_at(tmp_path: Path, **keys: object) -> Job:
    env = tmp_path / "creds.env"
    env.write_text("NTFY_URL=ntfys://tk_4f9QzL2x8w@ntfy.example.org/alerts\n")
    env.chmod(0o600)
    return Job(name="t", source=str(tmp_path / "src"), destination=str(tmp_path / "dst"),
               env_file=env, env_file_is_default=False, summary_file=tmp_path / "s.json",
               metrics_file=tmp_path / "m.prom", **keys)  # type: ignore[arg-type]


def facts(outcome: str, age: float) -> Facts:
    now = 1_000_000.0
    return Facts(job="t", now=now, warn_after=26 * HOUR, crit_after=50 * HOUR,
                 stall_timeout=1800, recorded=True, last_success=now - age,
                 last_run=LastRun("r", "sync", outcome, 0, now - 60, None))


def test_urls_from_the_env_file_are_secrets_shown_by_scheme(tmp_path: Path) -> None:
    job = job_at(tmp_path, notify=("env:NTFY_URL", "env:MISSING", "json://127.0.0.1:9/x"))
    urls, secrets, problems = na.resolve_urls(job)
    assert urls == ["ntfys://tk_4f9QzL2x8w@ntfy.example.org/alerts", "json://127.0.0.1:9/x"]
    assert "tk_4f9QzL2x8w" in secrets and urls[0] in secrets
    assert "127.0.0.1" not in secrets and "ntfy.example.org" not in secrets
    assert problems == [f"notify env:MISSING: MISSING is not set in {job.env_file}"]
    assert na.shown(urls[0]) == "ntfys://…"


def test_a_change_not_in_notify_on_is_remembered_not_told(tmp_path: Path) -> None:
    # Nothing listens at port 9: a send would be a warning, and none is made.
    job = job_at(tmp_path, notify=("json://127.0.0.1:9/x",), notify_on=("failure",))
    assert na.notify(job, facts("success", 60 * HOUR)) == []  # stale: not told
    state = json.loads((tmp_path / "t.notify.json").read_text())
    assert state == {"state": "stale"}
    assert na.notify(job, facts("success", HOUR)) == []  # recovered: not told either
    assert json.loads((tmp_path / "t.notify.json").read_text())["state"] == "ok"
    prom = (tmp_path / "m_notify.prom").read_text()
    assert 'space_mirror_notify_failures_total{job="t"} 0' in prom


def test_after_a_run_the_history_is_read_through_the_runners_own_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The notification after a run gathered the health model with `status`'s defaults:
    a second history read through the caller's (root's) ~/.cache, a cold scan of every log
    each night, and a process probe whose answer it then threw away."""
    from tui.ops import history, processes

    caches: list[str] = []

    def load(job: Job, find_running: object = None, cache: str = "user") -> object:
        caches.append(cache)
        raise OSError("not read in this test")

    def no_probe(job: Job) -> None:
        raise AssertionError("the run that just ended was probed for")

    monkeypatch.setattr(history, "load_history", load)
    monkeypatch.setattr(processes, "find_running", no_probe)
    job = job_at(tmp_path)
    job.log_file.parent.mkdir(parents=True, exist_ok=True)
    assert na.notify_after_run(job) == []  # the job has no `notify`: nothing sent
    assert caches == ["state"]
