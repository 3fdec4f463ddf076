"""The suite itself keeps out of the developer's home: every test has its own XDG_CACHE_HOME
(tests/conftest.py, `isolated_cache`), in process and in the CLI's children."""

from __future__ import annotations

import os
import pwd
import shutil
from pathlib import Path

from sm_testkit import FIXTURES

# The real home from the password database: HOME itself may be pointed elsewhere by a test.
REAL_CACHE = Path(pwd.getpwuid(os.getuid()).pw_dir) / ".cache" / "space-mirror"


def _cache_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("history-*.marshal")) if folder.exists() else []


def test_history_command_caches_under_the_tests_own_folder(job_config, run_cli,
                                                           isolated_cache: Path) -> None:
    job = job_config()
    shutil.copyfile(FIXTURES / "history" / "mixed.log", job.log)
    r = run_cli("--config", str(job.config), "history")
    assert r.returncode == 0, r.stderr
    ours = _cache_files(isolated_cache)
    # The per-file index and the assembled runs beside it (`.runs.marshal`).
    assert len(ours) == 2, "the history command wrote no cache where the test said"
    # The cache files' names are keyed by the log's path, which is unique to this test: the
    # same name in the real ~/.cache would be this run's doing.
    assert not any((REAL_CACHE / p.name).exists() for p in ours)


def test_in_process_history_caches_under_the_tests_own_folder(tmp_path: Path,
                                                              isolated_cache: Path) -> None:
    from tui.core.history import cache_path, scan_history
    from tui.core.history.cache import answer_path

    log = tmp_path / "space-mirror.log"
    shutil.copyfile(FIXTURES / "history" / "mixed.log", log)
    history = scan_history(log)  # the default cache folder, as the dashboard uses it
    assert len(history.runs) == 14
    assert not cache_path(REAL_CACHE, log).exists(), "a test wrote into the real ~/.cache"
    index = cache_path(isolated_cache / "space-mirror", log)
    assert _cache_files(isolated_cache) == sorted([index, answer_path(index)])
