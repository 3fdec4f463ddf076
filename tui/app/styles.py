"""Where the stylesheets are: the top-level styles/ folder, shipped as the package
tui.styles (a wheel installs it there; the tests check that the app finds it)."""

from __future__ import annotations

import importlib
import os


def css_path(name: str) -> str:
    # The package's own folder, not importlib.resources: that loads zipfile and its
    # readers (2 ms of the dashboard's start) to say the same of a package on disk.
    package = importlib.import_module("tui.styles")
    return os.path.join(os.path.dirname(package.__file__ or "."), name)
