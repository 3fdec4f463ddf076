"""Textual stylesheets, shipped in the wheel."""
