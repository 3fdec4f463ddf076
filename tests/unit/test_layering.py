"""tui.core and tui.ops never import textual or rich (the runner and `history --json`
must work without a terminal UI)."""

from __future__ import annotations

import subprocess
import sys

CODE = r"""
import importlib, pkgutil, sys
import tui.core, tui.ops
names = []
for pkg in (tui.core, tui.ops):
    for info in pkgutil.iter_modules(pkg.__path__, pkg.__name__ + "."):
        importlib.import_module(info.name)
        names.append(info.name)
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "rich"))
print(len(names), ",".join(bad))
"""


def test_core_and_ops_import_no_ui() -> None:
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                         timeout=60, check=True).stdout.split()
    count = int(out[0])
    assert count >= 15  # every module of both packages was imported
    assert out[1:] == [], f"UI modules imported: {out[1:]}"
