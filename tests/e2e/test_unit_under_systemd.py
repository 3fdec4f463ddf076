"""The generated unit under a real systemd (issue 19): this machine's PID 1 is not systemd, so
the test boots one with `systemd-nspawn --volatile=yes --boot` (the host's own /usr, an empty
tmpfs for the rest: no node-exporter folder), starts the job's service in it and reads
systemd's verdict. The unit the old generator wrote (`ReadWritePaths=` without `-`, no local
destination) fails there with 226/NAMESPACE; today's runs the sync under ProtectSystem=strict
and writes the local destination.

Needs root and systemd-nspawn (Debian's systemd-container; `make test` installs it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sm_testkit import REPO, write_toml

from tui.config import load_job
from tui.ops import systemd

pytestmark = pytest.mark.e2e

# Read-only in the container: this checkout (its .venv and the editable `tui`), and the
# interpreter the venv points at.
PYTHON_HOME = Path(os.path.realpath(sys.executable)).parents[1]
OLD_RW = "ReadWritePaths=/var/lib/prometheus/node-exporter /srv/data/log"

PROBE = """[Unit]
Description=issue 19 probe: start the job's service, record systemd's verdict, power off
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'systemctl start space-mirror-t.service; \\
systemctl show -p Result -p ExecMainStatus space-mirror-t.service > /srv/data/verdict; \\
systemctl poweroff'
[Install]
WantedBy=multi-user.target
"""


@pytest.fixture
def data() -> Iterator[Path]:
    # Outside pytest's 0700 tmp folders: bound into the container at /srv/data.
    base = Path(tempfile.mkdtemp(prefix="sm-nspawn-", dir="/tmp"))
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def boot_and_start(data: Path, service: str) -> dict[str, str]:
    if REPO.is_relative_to("/tmp"):
        pytest.fail(f"this checkout ({REPO}) is under /tmp, which the unit's PrivateTmp=yes "
                    "hides from its ExecStart (exit 203); run it from a checkout elsewhere")
    nspawn = shutil.which("systemd-nspawn")
    if nspawn is None:
        pytest.fail("systemd-nspawn is missing: `sudo make test-deps` installs systemd-container")
    units = data / "units"
    units.mkdir()
    (units / "space-mirror-t.service").write_text(service)
    (units / "probe.service").write_text(PROBE)
    (units / "multi-user.target.wants").mkdir()
    (units / "multi-user.target.wants" / "probe.service").symlink_to(
        "/etc/systemd/system/probe.service")
    out = subprocess.run(
        [nspawn, "--quiet", "--register=no", "--keep-unit", "-D", "/", "--volatile=yes",
         "--boot", f"--bind={data}:/srv/data", f"--bind-ro={units}:/etc/systemd/system",
         f"--bind-ro={REPO}", f"--bind-ro={PYTHON_HOME}",
         "systemd.firstboot=off"],  # an empty /etc is a first boot: no wizard waiting on a key
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    verdict = data / "verdict"
    assert verdict.exists(), out.stdout[-3000:] + out.stderr[-2000:]
    return dict(ln.split("=", 1) for ln in verdict.read_text().splitlines() if "=" in ln)


def make_job(data: Path) -> str:
    """The job's service, as `space-mirror unit` writes it, for paths inside the container."""
    for sub in ("src", "dst", "log"):
        (data / sub).mkdir()
    (data / "src" / "a.txt").write_text("mirrored under systemd\n")
    write_toml(data / "config.toml", {"t": {
        "source": "/srv/data/src", "destination": "/srv/data/dst",
        "log_file": "/srv/data/log/mirror.log", "require_mount": False,
        "flags": ["--transfers", "2"]}})
    job = load_job(data / "config.toml", "t")
    text = systemd.service_unit(job, data / "config.toml")
    return text.replace(f"--config {data / 'config.toml'}", "--config /srv/data/config.toml")


def test_the_unit_starts_without_node_exporter_and_writes_a_local_destination(
        data: Path) -> None:
    assert not Path("/var/lib/prometheus/node-exporter").is_relative_to("/usr")
    service = make_job(data)
    rw = next(ln for ln in service.splitlines() if ln.startswith("ReadWritePaths="))
    assert rw == ("ReadWritePaths=-/srv/data/dst /srv/data/log "
                  "-/var/lib/prometheus/node-exporter")
    verdict = boot_and_start(data, service)
    assert verdict == {"Result": "success", "ExecMainStatus": "0"}, verdict
    assert (data / "dst" / "a.txt").read_text() == "mirrored under systemd\n"
    assert "] Space Mirror Complete. run=" in (data / "log" / "mirror.log").read_text()


def test_the_old_unit_fails_with_226_namespace(data: Path) -> None:
    service = make_job(data)
    rw = next(ln for ln in service.splitlines() if ln.startswith("ReadWritePaths="))
    verdict = boot_and_start(data, service.replace(rw, OLD_RW))
    assert verdict == {"Result": "exit-code", "ExecMainStatus": "226"}, verdict
    assert not (data / "dst").joinpath("a.txt").exists()
