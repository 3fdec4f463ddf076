"""space-mirror: a runner and terminal dashboard for rclone mirror jobs."""

__version__ = "0.1.0"
