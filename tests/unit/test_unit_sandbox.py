"""A unit that starts on any host (issue 19): optional folders get systemd's `-` prefix, a
local destination is writable under ProtectSystem=strict, and `check` reads the unit against
the job. `systemd-analyze verify` checks the syntax; systemd.sandbox_problems checks what
verify does not (a listed path that is missing stops the unit with 226/NAMESPACE; a folder the
job writes that is not listed is read-only). tests/e2e/test_unit_under_systemd.py starts the
unit under a real systemd (systemd-nspawn)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tui.config import Job
from tui.ops import preflight, systemd

# The unit the old generator wrote for the default job with a local destination: no `-`,
# no destination.
OLD_RW = "ReadWritePaths=/var/lib/prometheus/node-exporter /var/log"


def rw_line(text: str) -> str:
    return next(ln for ln in text.splitlines() if ln.startswith("ReadWritePaths="))


def test_optional_folders_get_the_dash_and_the_destination_is_listed(tmp_path: Path) -> None:
    dest = tmp_path / "mirror"
    job = Job(name="t", source=str(tmp_path), destination=str(dest), require_mount=False,
              env_file=None)
    assert systemd.read_write_paths(job) == [
        f"-{dest}", "-/var/lib/prometheus/node-exporter", "/var/log"]
    assert rw_line(systemd.service_unit(job, None)) == (
        f"ReadWritePaths=-{dest} -/var/lib/prometheus/node-exporter /var/log")
    remote = Job(name="t", destination=":b2:bucket")
    assert systemd.read_write_paths(remote) == ["-/var/lib/prometheus/node-exporter",
                                                "/var/log"]


def test_systemd_analyze_accepts_the_dash(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail("systemd-analyze is missing: `sudo make test-deps` installs it")
    job = Job(name="t", source=str(tmp_path), destination=str(tmp_path / "d"),
              require_mount=False, env_file=None, log_file=tmp_path / "m.log")
    unit = tmp_path / "space-mirror-t.service"
    unit.write_text(systemd.service_unit(job, None))
    r = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert not [ln for ln in r.stderr.splitlines() if unit.name in ln]


def test_sandbox_problems_of_the_old_unit_on_a_host_without_node_exporter(
        tmp_path: Path) -> None:
    dest = tmp_path / "mirror"
    dest.mkdir()
    job = Job(name="t", source=str(tmp_path), destination=str(dest), require_mount=False,
              env_file=None)
    new = systemd.service_unit(job, None)
    old = new.replace(rw_line(new), OLD_RW)
    node_exporter = Path("/var/lib/prometheus/node-exporter")
    problems = systemd.sandbox_problems(job, old)
    if not node_exporter.exists():
        assert problems[0].startswith(f"ReadWritePaths={node_exporter} does not exist: "
                                      "systemd would refuse to start the unit (226/NAMESPACE)")
    assert any(p.startswith(f"the destination {dest} is read-only under the unit")
               for p in problems), problems
    assert systemd.sandbox_problems(job, new) == []
    gone = Job(name="t", source=str(tmp_path), destination=str(tmp_path / "missing"),
               require_mount=False, env_file=None)
    assert systemd.sandbox_problems(gone, systemd.service_unit(gone, None)) == [
        f"the destination {tmp_path / 'missing'} does not exist, and the unit's sandbox "
        f"cannot create it; mkdir -p {tmp_path / 'missing'}"]
    bare = Job(name="t", source=str(tmp_path), destination=str(dest), require_mount=False,
               env_file=None, rclone="rclone")
    assert "is looked up on the unit's PATH" in systemd.sandbox_problems(
        bare, systemd.service_unit(bare, None))[-1]


def test_check_fails_an_installed_unit_and_warns_for_a_generated_one(tmp_path: Path) -> None:
    dest = tmp_path / "mirror"
    dest.mkdir()
    job = Job(name="t", source=str(tmp_path), destination=str(dest), require_mount=False,
              env_file=None)
    units = tmp_path / "units"
    units.mkdir()
    (ok,) = preflight.check_unit(job, units)
    assert ok.ok and ok.line() == ("✓ unit: the unit `space-mirror unit --install` would "
                                   "write: its sandbox lets the job write its log, lock, "
                                   "metrics and destination")
    new = systemd.service_unit(job, None)
    (units / "space-mirror-t.service").write_text(new.replace(rw_line(new), OLD_RW))
    bad = [r for r in preflight.check_unit(job, units) if not r.ok]
    assert bad and any("destination" in r.detail for r in bad)
    assert all(r.fix for r in bad)
