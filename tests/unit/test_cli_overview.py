"""`space-mirror` with several jobs opens the overview; `--job NAME` opens one dashboard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tui import cli


def _config(tmp_path: Path, names: list[str]) -> Path:
    body = "".join(f"""[jobs.{n}]
source = "{tmp_path / n}"
destination = "{tmp_path / (n + '-dst')}"
log_file = "{tmp_path / (n + '.log')}"
""" for n in names)
    path = tmp_path / "jobs.toml"
    path.write_text(body)
    return path


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    calls: list[tuple[Any, ...]] = []

    def fake_open(job: Any, args: list[str], jobs: Any = None) -> int:
        calls.append((job, args, jobs))
        return 0

    monkeypatch.setattr(cli, "_open_dashboard", fake_open)
    return calls


def test_several_jobs_open_the_overview(tmp_path: Path, opened: list[tuple[Any, ...]]) -> None:
    config = _config(tmp_path, ["web", "photos", "mail"])
    assert cli.main(["--config", str(config)]) == 0
    (_, _, jobs), = opened
    assert [j.name for j, _ in jobs] == ["mail", "photos", "web"]
    for job, args in jobs:  # each row's dashboard starts runners of its own job
        assert args[args.index("--job") + 1] == job.name
        assert args[args.index("--config") + 1] == str(config.resolve())


def test_job_opens_its_dashboard_directly(tmp_path: Path, opened: list[tuple[Any, ...]]) -> None:
    config = _config(tmp_path, ["web", "photos"])
    assert cli.main(["--config", str(config), "--job", "photos"]) == 0
    (job, args, jobs), = opened
    assert job.name == "photos" and not jobs and "--job" in args


def test_one_job_opens_its_dashboard(tmp_path: Path, opened: list[tuple[Any, ...]]) -> None:
    config = _config(tmp_path, ["web"])
    assert cli.main(["--config", str(config)]) == 0
    (job, _, jobs), = opened
    assert job.name == "web" and not jobs
