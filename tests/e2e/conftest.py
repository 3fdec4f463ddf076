"""The tmux fixture, shared by the e2e tests (defined in test_dashboard_tmux.py)."""

from test_dashboard_tmux import tmux  # noqa: F401 (a fixture)
