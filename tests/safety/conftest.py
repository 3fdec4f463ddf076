"""Fixtures for the safety tests (the helpers live in safety_helpers.py)."""

from safety_helpers import mirror, seeded

__all__ = ["mirror", "seeded"]
