"""Peak RSS of a child process, measured by a fresh interpreter that runs only that child:
RUSAGE_CHILDREN of a process with one child is that child's VmHWM, whatever pytest ran."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

_PROBE = r"""
import json, resource, subprocess, sys
argv = json.loads(sys.argv[1])
proc = subprocess.run(argv, capture_output=True, timeout=float(sys.argv[2]))
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
sys.stdout.write(json.dumps({"rc": proc.returncode, "peak_kib": peak_kib,
                             "stdout": proc.stdout.decode("utf-8", "replace"),
                             "stderr": proc.stderr.decode("utf-8", "replace")}))
"""


@dataclass(frozen=True)
class Peak:
    rc: int
    peak_mb: float
    stdout: str
    stderr: str


def peak_rss(argv: list[str], env: dict[str, str], timeout: float = 120) -> Peak:
    import json

    out = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(argv), str(timeout)],
                         env=env, capture_output=True, text=True, timeout=timeout + 30,
                         check=True)
    data = json.loads(out.stdout)
    return Peak(data["rc"], data["peak_kib"] / 1024, data["stdout"], data["stderr"])
