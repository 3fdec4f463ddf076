"""Where a user's space-mirror caches live: its own module, because the `history` memo looks
there before anything heavier is imported (tui/answer_memo.py)."""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "space-mirror"
