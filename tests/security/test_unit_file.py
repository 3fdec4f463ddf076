"""The generated unit keeps state in root-only folders made by systemd (RuntimeDirectory=,
StateDirectory=, 0700) and passes `systemd-analyze verify`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tui.config import Job
from tui.ops import systemd


def test_unit_uses_root_only_runtime_and_state_directories(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"
    if not Path(analyze).exists():
        pytest.fail("systemd-analyze is missing: install Debian's `systemd` package")
    job = Job(name="nightly", source=str(tmp_path), env_file=None, require_mount=False,
              log_file=tmp_path / "mirror.log")
    text = systemd.service_unit(job, None)
    lines = text.splitlines()
    for line in ("RuntimeDirectory=space-mirror", "RuntimeDirectoryMode=0700",
                 "StateDirectory=space-mirror", "StateDirectoryMode=0700"):
        assert line in lines
    assert job.lock_path.is_relative_to("/run/space-mirror")
    assert job.summary_path.is_relative_to("/var/lib/space-mirror")
    rw = next(ln for ln in lines if ln.startswith("ReadWritePaths="))
    assert "/run/space-mirror" not in rw and "/var/lib/space-mirror" not in rw
    exec_start = next(ln for ln in lines if ln.startswith("ExecStart="))
    assert Path(exec_start.removeprefix("ExecStart=").split()[0]).exists()
    unit = tmp_path / "space-mirror-nightly.service"
    unit.write_text(text)
    r = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    complaints = [ln for ln in r.stderr.splitlines() if unit.name in ln]
    assert not complaints, complaints
