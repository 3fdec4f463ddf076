"""`space-mirror unit --install` and the unit's TimeoutStartSec. This machine has no systemd
as PID 1, like a container or an image build: the install writes and verifies the units,
then prints the systemctl steps instead of running them. systemd-analyze is the real one."""

from __future__ import annotations

import shutil
from pathlib import Path

from tui.config import Job
from tui.ops import systemd
from tui.ops.unit_install import Installer, legacy_units

LEGACY = """[Unit]
Description=Space mirror (old wrapper)

[Service]
Type=oneshot
ExecStart=/usr/local/bin/space-mirror.sh
"""


def test_timeout_start_sec_follows_the_limits() -> None:
    def line(job: Job) -> str:
        text = systemd.service_unit(job, None)
        return next(ln for ln in text.splitlines() if ln.startswith("TimeoutStartSec="))

    assert line(Job(name="t", env_file=None)) == "TimeoutStartSec=infinity"
    assert line(Job(name="t", env_file=None, max_duration=4 * 3600, abort_grace=30)) == \
        f"TimeoutStartSec={4 * 3600 + 30 + 120}"
    assert line(Job(name="t", env_file=None, window_end="07:00")) == \
        f"TimeoutStartSec={24 * 3600 + 30 + 120}"


def installer(tmp_path: Path, answers: list[bool]) -> tuple[Installer, list[str]]:
    said: list[str] = []
    asked = iter(answers)
    return Installer(tmp_path / "units", say=said.append, ask=lambda q: next(asked),
                     systemd_running=False), said


def units(job: Job) -> tuple[str, str]:
    return systemd.service_unit(job, None), systemd.timer_unit(job)


def test_install_without_systemd_prints_each_step(tmp_path: Path) -> None:
    assert shutil.which("systemd-analyze"), "systemd-analyze is installed in CI"
    (tmp_path / "units").mkdir()
    (tmp_path / "units" / "space-mirror.service").write_text(LEGACY)
    (tmp_path / "units" / "space-mirror.timer").write_text("[Timer]\nOnCalendar=daily\n")
    inst, said = installer(tmp_path, [True, False])
    job = Job(name="photos", env_file=None, require_mount=False, source="/srv/photos",
              destination="/mnt/mirror")
    assert inst.install("space-mirror-photos", *units(job)) == 0
    assert (tmp_path / "units" / "space-mirror-photos.service").read_text() == units(job)[0]
    assert (tmp_path / "units" / "space-mirror-photos.timer").read_text() == units(job)[1]
    assert said[0] == "✓ systemd-analyze verify space-mirror-photos.service " \
                      "space-mirror-photos.timer"
    assert said[3:] == [
        "· systemd is not running here; run these steps on the host:",
        "    systemctl daemon-reload",
        "    systemctl enable --now space-mirror-photos.timer",
        "    systemctl disable --now space-mirror.timer",  # asked: yes
        "· kept space-mirror.service; disable it later: "  # asked: no
        "systemctl disable --now space-mirror.service",
    ]


def test_install_refuses_units_that_do_not_verify(tmp_path: Path) -> None:
    inst, said = installer(tmp_path, [])
    service, timer = units(Job(name="t", env_file=None, require_mount=False))
    bad = service.replace("Nice=10", "Nice=banana")
    assert inst.install("space-mirror-t", bad, timer) == 1
    assert said[0].startswith("✗ systemd-analyze verify found problems")
    assert "nice priority 'banana'" in said[1]
    assert not (tmp_path / "units").exists()  # nothing installed


def test_legacy_units_are_found_by_their_exec_start(tmp_path: Path) -> None:
    (tmp_path / "space-mirror.service").write_text(LEGACY)
    (tmp_path / "backup.service").write_text("[Service]\nExecStart=/bin/true\n")
    assert legacy_units(tmp_path, exclude=set()) == ["space-mirror.service"]
    assert legacy_units(tmp_path, exclude={"space-mirror.service"}) == []


def test_cli_install(job_config, run_cli, tmp_path: Path) -> None:
    job = job_config()
    # --print-steps: never touch the systemd of a machine that runs one.
    r = run_cli("--config", str(job.config), "unit", "--install", "--print-steps",
                "--unit-dir", str(tmp_path / "u"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "u" / "space-mirror-t.timer").is_file()
    assert "    systemctl enable --now space-mirror-t.timer" in r.stdout
    # With the weekly verify (docs/verify.md), its pair is verified, written and enabled too.
    r = run_cli("--config", str(job.config), "unit", "--install", "--print-steps",
                "--verify", "Sun", "--unit-dir", str(tmp_path / "v"))
    assert r.returncode == 0, r.stderr + r.stdout
    assert r.stdout.splitlines()[0] == (
        "✓ systemd-analyze verify space-mirror-t.service space-mirror-t.timer "
        "space-mirror-t-verify.service space-mirror-t-verify.timer")
    assert (tmp_path / "v" / "space-mirror-t-verify.timer").is_file()
    assert "    systemctl enable --now space-mirror-t-verify.timer" in r.stdout


def test_cli_install_with_notify_and_a_rotating_verify(job_config, run_cli,
                                                       tmp_path: Path) -> None:
    """A job with `notify` gets an hourly `status --notify` (stale needs no run), and
    `--verify daily --verify-rotate 14` a nightly rotation; systemd-analyze passes them."""
    job = job_config(notify=["json://127.0.0.1:9/x"])
    r = run_cli("--config", str(job.config), "unit", "--install", "--print-steps",
                "--verify", "daily", "--verify-rotate", "14", "--unit-dir", str(tmp_path / "n"))
    assert r.returncode == 0, r.stderr + r.stdout
    assert r.stdout.splitlines()[0] == (
        "✓ systemd-analyze verify space-mirror-t.service space-mirror-t.timer "
        "space-mirror-t-verify.service space-mirror-t-verify.timer "
        "space-mirror-t-notify.service space-mirror-t-notify.timer")
    notify = (tmp_path / "n" / "space-mirror-t-notify.service").read_text()
    assert "status --notify --job t" in notify and "SuccessExitStatus=1 2 3 75" in notify
    assert "OnCalendar=hourly" in (tmp_path / "n" / "space-mirror-t-notify.timer").read_text()
    verify = (tmp_path / "n" / "space-mirror-t-verify.service").read_text()
    assert "verify --rotate 14 --job t" in verify
    assert "OnCalendar=*-*-* 05:00:00" in (tmp_path / "n" / "space-mirror-t-verify.timer"
                                           ).read_text()
    assert "    systemctl enable --now space-mirror-t-notify.timer" in r.stdout
