"""`space-mirror unit --install`: put the job's service and timer in place.

1. write both units into a scratch folder and check them with `systemd-analyze verify`
   (any complaint about our files stops here, nothing installed);
2. copy them into the unit folder (/etc/systemd/system);
3. `systemctl daemon-reload`, `systemctl enable --now NAME.timer`;
4. find the old unit this replaces (a unit in that folder whose ExecStart runs
   `space-mirror.sh`, the legacy wrapper) and, after asking, `systemctl disable --now` it.

When systemd is not running (a container, a chroot, an image being built) steps 3 and 4 are
printed for the operator to run later, never attempted.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

UNIT_DIR = Path("/etc/systemd/system")
LEGACY_NEEDLE = "space-mirror.sh"


@dataclass
class Installer:
    unit_dir: Path = UNIT_DIR
    say: Callable[[str], None] = print
    ask: Callable[[str], bool] | None = None  # None: never disable without --yes
    systemd_running: bool | None = None  # None: look at /run/systemd/system

    def running(self) -> bool:
        if self.systemd_running is not None:
            return self.systemd_running
        return Path("/run/systemd/system").is_dir()

    def install(self, name: str, service: str, timer: str,
                more: dict[str, tuple[str, str]] | None = None) -> int:
        """Install NAME.service and NAME.timer, plus `more` pairs (a unit name → its service
        and timer, e.g. the weekly verify's); every timer is enabled."""
        pairs = {name: (service, timer), **(more or {})}
        files = {f"{n}.{kind}": text for n, (svc, tmr) in pairs.items()
                 for kind, text in (("service", svc), ("timer", tmr))}
        problems = verify(files)
        if problems is None:
            self.say("· systemd-analyze not found: units not verified")
        elif problems:
            self.say("✗ systemd-analyze verify found problems; nothing installed:")
            for line in problems:
                self.say(f"    {line}")
            return 1
        else:
            self.say(f"✓ systemd-analyze verify {' '.join(files)}")
        self.unit_dir.mkdir(parents=True, exist_ok=True)
        for file_name, text in files.items():
            path = self.unit_dir / file_name
            path.write_text(text, encoding="utf-8")
            path.chmod(0o644)
            self.say(f"✓ wrote {path}")
        steps = [["systemctl", "daemon-reload"],
                 *(["systemctl", "enable", "--now", f"{n}.timer"] for n in pairs)]
        old = legacy_units(self.unit_dir, exclude=set(files))
        live = self.running()
        if not live:
            self.say("· systemd is not running here; run these steps on the host:")
        for argv in steps:
            if not self._step(argv, live):
                return 1
        for unit in old:
            question = (f"Disable the old unit {unit} (it runs {LEGACY_NEEDLE}), which "
                        f"{name}.timer replaces?")
            if self.ask is None or not self.ask(question):
                self.say(f"· kept {unit}; disable it later: systemctl disable --now {unit}")
                continue
            if not self._step(["systemctl", "disable", "--now", unit], live):
                return 1
        return 0

    def _step(self, argv: list[str], live: bool) -> bool:
        shown = " ".join(argv)
        if not live:
            self.say(f"    {shown}")
            return True
        out = subprocess.run(argv, capture_output=True, text=True, timeout=120,
                             stdin=subprocess.DEVNULL)
        if out.returncode != 0:
            self.say(f"✗ {shown}: {(out.stderr or out.stdout).strip().splitlines()[-1:]}")
            return False
        self.say(f"✓ {shown}")
        return True


def verify(files: dict[str, str]) -> list[str] | None:
    """Complaints of `systemd-analyze verify` about these unit files ([] when clean);
    None when systemd-analyze is not installed."""
    tool = shutil.which("systemd-analyze")
    if tool is None:
        return None
    with tempfile.TemporaryDirectory(prefix="space-mirror-unit.") as tmp:
        paths = []
        for file_name, text in files.items():
            p = Path(tmp) / file_name
            p.write_text(text, encoding="utf-8")
            paths.append(str(p))
        out = subprocess.run([tool, "verify", *paths], capture_output=True, text=True,
                             timeout=60, stdin=subprocess.DEVNULL)
        # It exits 0 even for a directive it ignores: any line about our files is a problem.
        lines = [ln.replace(tmp + "/", "") for ln in (out.stderr + out.stdout).splitlines()
                 if tmp in ln]
        if out.returncode != 0 and not lines:
            lines = [ln for ln in out.stderr.splitlines() if ln.strip()][-3:]
        return lines


def legacy_units(unit_dir: Path, exclude: set[str]) -> list[str]:
    """Units in unit_dir whose ExecStart runs the legacy wrapper script, each after the
    timer of the same name, if any."""
    found = []
    try:
        entries = sorted(unit_dir.iterdir())
    except OSError:
        return []
    for path in entries:
        if path.suffix != ".service" or path.name in exclude or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if re.search(rf"^\s*ExecStart=.*{re.escape(LEGACY_NEEDLE)}", text, re.M):
            # Its timer first: a disabled service that a timer still starts is not gone.
            timer = path.with_suffix(".timer")
            if timer.is_file():
                found.append(timer.name)
            found.append(path.name)
    return found


def ask_tty(question: str) -> bool:
    """Ask on the terminal; no terminal means no."""
    if not sys.stdin.isatty():
        return False
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False
