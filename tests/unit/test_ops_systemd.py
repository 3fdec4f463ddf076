"""`space-mirror unit`: the service and timer text."""

from __future__ import annotations

from pathlib import Path

from tui.config import Job
from tui.ops import systemd


def test_service_unit(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    job = Job(name="nightly", source="/space", env_file=Path("/etc/miket/creds.env"),
              log_file=Path("/var/log/space-mirror.log"))
    text = systemd.service_unit(job, config)
    lines = text.splitlines()
    assert "Type=oneshot" in lines
    exec_start = next(ln for ln in lines if ln.startswith("ExecStart="))
    assert exec_start.endswith(f"--config {config} run --job nightly")
    assert "EnvironmentFile=/etc/miket/creds.env" in lines
    assert "RequiresMountsFor=/space" in lines and "ReadOnlyPaths=/space" in lines
    rw = next(ln for ln in lines if ln.startswith("ReadWritePaths="))
    assert "/var/log" in rw and "/run/space-mirror" not in rw  # RuntimeDirectory=
    assert "RuntimeDirectory=space-mirror" in lines and "StateDirectory=space-mirror" in lines
    assert "KillMode=mixed" in lines


def test_service_unit_without_config_or_env_file() -> None:
    job = Job(name="t", env_file=None, require_mount=False, source="remote:src")
    text = systemd.service_unit(job, None)
    assert "EnvironmentFile" not in text and "--config" not in text
    assert "RequiresMountsFor" not in text and "ReadOnlyPaths" not in text
    assert next(ln for ln in text.splitlines() if ln.startswith("ExecStart=")).endswith(
        "run --job t")


def test_timer_unit() -> None:
    text = systemd.timer_unit(Job(name="t"), "*-*-* 02:30:00")
    assert "OnCalendar=*-*-* 02:30:00" in text and "Persistent=true" in text
    assert "WantedBy=timers.target" in text


def test_default_env_file_only_when_the_destination_needs_credentials() -> None:
    """systemd does not start a unit whose EnvironmentFile= is missing: a local job must not
    name the seed's B2 env file it never reads."""
    local = Job(name="t", destination="/srv/mirror")
    assert local.env_file_is_default
    assert "EnvironmentFile" not in systemd.service_unit(local, None)
    b2 = Job(name="t")
    assert f"EnvironmentFile={b2.env_file}" in systemd.service_unit(b2, None)
    explicit = Job(name="t", destination="/srv/mirror", env_file=Path("/etc/x.env"),
                   env_file_is_default=False)
    assert "EnvironmentFile=/etc/x.env" in systemd.service_unit(explicit, None)
