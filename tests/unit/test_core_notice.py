"""tui/core/notice.py: the state told to the person on call, when it is news, and what the
message holds (pure: facts in, text out)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tui.config import ConfigError, Job, validate_job
from tui.core import notice
from tui.core.health import Facts, LastRun
from tui.core.remedy import count_once

HOUR = 3600.0
JOB = Job(name="photos", source="/photos", destination=":b2:bucket/photos",
          env_file=Path("/etc/creds.env"))


def facts(outcome: str | None = "success", mode: str = "sync", age: float | None = HOUR,
          stalled: bool = False, reason: str | None = None) -> Facts:
    now = 1_000_000.0
    last = None if outcome is None else LastRun("r1", mode, outcome, 0 if outcome == "success"
                                                else 1, now - 60, reason, stalled)
    return Facts(job="photos", now=now, warn_after=26 * HOUR, crit_after=50 * HOUR,
                 stall_timeout=1800, recorded=outcome is not None,
                 last_success=None if age is None else now - age, last_run=last)


def test_states() -> None:
    assert notice.notice_state(facts()) == "ok"
    assert notice.notice_state(facts("failed")) == "failure"
    assert notice.notice_state(facts("failed", stalled=True)) == "stalled"
    assert notice.notice_state(facts(age=51 * HOUR)) == "stale"
    assert notice.notice_state(facts(age=None)) == "stale"  # never a good mirror
    assert notice.notice_state(facts("success", mode="dry-run")) is None  # says nothing new
    assert notice.notice_state(facts("aborted")) is None
    # rclone dead of a signal (the OOM killer), a run whose log stops short: failures too.
    assert notice.notice_state(facts("killed")) == "failure"
    assert notice.notice_state(facts("incomplete")) == "failure"
    assert notice.notice_state(facts(None)) is None


def test_once_per_change_and_recovered_closes() -> None:
    assert notice.decide(None, "ok") is None  # a first good run is no news
    assert notice.decide("ok", "failure") == "failure"
    assert notice.decide("failure", "failure") is None  # the second failed night
    assert notice.decide("failure", "stalled") == "stalled"
    assert notice.decide("stalled", "ok") == "recovered"
    assert notice.decide("ok", None) is None


def test_failure_message_holds_class_remedy_files_age_and_command() -> None:
    errors = count_once([
        ("a/one.jpg", "Failed to copy: 401 unauthorized: bad key"),
        ("a/two.jpg", "Failed to copy: 401 unauthorized: bad key"),
    ] + [(f"x{i}", "Failed to copy: 401 unauthorized") for i in range(6)])
    msg = notice.compose("failure", facts("failed"), JOB, "nas1", errors)
    assert msg.title == "space-mirror photos on nas1: FAILED"
    assert "Error class: auth ×8." in msg.body
    assert ("What to do: the B2 key was rejected (a wrong or expired key): check "
            "B2_APPLICATION_KEY_ID") in msg.body
    assert "Files: a/one.jpg, a/two.jpg, x0, x1, x2 (+3 more)." in msg.body
    assert "Last good mirror: 60 min ago." in msg.body
    assert msg.body.endswith("More: space-mirror history --job photos (or status --job "
                             "photos).")


def test_stale_and_recovered_messages() -> None:
    stale = notice.compose("stale", facts(age=60 * HOUR), JOB, "nas1")
    assert "The last good mirror is 60 h old, over crit_after (50 h)." in stale.body
    assert "systemctl list-timers" in stale.body
    never = notice.compose("stale", facts("failed", age=None, reason="auth ×1 (…) — fix it"),
                           JOB, "nas1")
    assert "missing: no sync has succeeded yet" in never.body and "Why: auth ×1" in never.body
    done = notice.compose("recovered", facts(), JOB, "nas1")
    assert done.title.endswith(": recovered") and "current again" in done.body


def test_notify_keys_are_checked() -> None:
    validate_job(Job(notify=("env:NTFY_URL", "ntfys://topic"), notify_on=("failure",)))
    with pytest.raises(ConfigError, match="notify_on 'page' is not one of failure"):
        validate_job(Job(notify_on=("page",)))
    with pytest.raises(ConfigError, match="must be `env:NAME`"):
        validate_job(Job(notify=("env:bad name",)))


def test_check_says_when_apprise_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from tui.cli import main

    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    (src / "a").write_text("a")
    config = tmp_path / "c.toml"
    config.write_text(f'[jobs.t]\nsource = "{src}"\ndestination = "{dst}"\nflags = []\n'
                      f'log_file = "{tmp_path}/log"\nlock_file = "{tmp_path}/lock"\n'
                      f'summary_file = "{tmp_path}/s.json"\nmetrics_file = "{tmp_path}/m.prom"\n'
                      'require_mount = false\nnotify = ["json://127.0.0.1:9/x"]\n')
    monkeypatch.setitem(sys.modules, "apprise", None)  # `import apprise` fails
    code = main(["--config", str(config), "check", "--offline"])
    out = capsys.readouterr().out
    assert "✗ notify: Apprise is not installed, so `notify` sends nothing" in out
    assert "pip install 'space-mirror[notify]'" in out and code == 78
    monkeypatch.delitem(sys.modules, "apprise")
    code = main(["--config", str(config), "check", "--offline"])
    out = capsys.readouterr().out
    assert "✓ notify: Apprise, 1 URL(s): json://… on failure, stalled, stale, recovered" in out
    assert "127.0.0.1:9" not in out and code == 0
