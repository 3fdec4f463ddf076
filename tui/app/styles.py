"""Where the stylesheets are: the top-level styles/ folder, shipped as the package
tui.styles (a wheel installs it there; the tests check that the app finds it)."""

from __future__ import annotations

from importlib.resources import files


def css_path(name: str) -> str:
    return str(files("tui.styles").joinpath(name))
