"""The dashboard application (placeholder until the dashboard lands)."""

from __future__ import annotations

from textual.app import App

from tui.config import Job


class MirrorApp(App[int]):
    def __init__(self, job: Job, job_args: list[str]) -> None:
        super().__init__()
        self.job = job
        self.job_args = job_args
