"""Helpers for the safety tests: a real job on local folders, the real runner and the real
rclone in subprocesses, and a fingerprint of the destination to prove nothing was lost."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tui.core.markers import Marker, MarkerKind, parse_marker

Fingerprint = dict[str, tuple[int, str]]


def fingerprint(root: Path) -> Fingerprint:
    """Every file under root → (size, sha256)."""
    out: Fingerprint = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            out[path.relative_to(root).as_posix()] = (len(data), hashlib.sha256(data).hexdigest())
    return out


def assert_nothing_lost(before: Fingerprint, root: Path) -> None:
    after = fingerprint(root)
    lost = [p for p in before if p not in after]
    changed = [p for p in before if p in after and after[p] != before[p]]
    assert not lost, f"files lost at the destination: {lost}"
    assert not changed, f"files changed at the destination: {changed}"


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


@dataclass
class MirrorJob:
    base: Path
    name: str = "t"

    @property
    def src(self) -> Path:
        return self.base / "src"

    @property
    def dst(self) -> Path:
        return self.base / "dst"

    @property
    def log(self) -> Path:
        return self.base / "mirror.log"

    @property
    def summary(self) -> Path:
        return self.base / "summary.json"

    @property
    def config(self) -> Path:
        return self.base / "config.toml"

    def configure(self, **extra: object) -> None:
        lines = [f"[jobs.{self.name}]",
                 f'source = "{self.src}"',
                 f'destination = "{self.dst}"',
                 'flags = ["--transfers", "4", "--checkers", "4", "--track-renames"]',
                 f'log_file = "{self.log}"',
                 f'lock_file = "{self.base / "lock"}"',
                 f'metrics_file = "{self.base / "m.prom"}"',
                 f'summary_file = "{self.summary}"',
                 'env_file = ""',
                 f'rclone = "{Path(sys.executable).parent / "rclone"}"']
        extra.setdefault("require_mount", False)
        for key, value in extra.items():
            lines.append(f"{key} = {json.dumps(value)}")
        self.config.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def cli(self, *args: str) -> Result:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RCLONE_", "SPACE_"))}
        proc = subprocess.run(
            [sys.executable, "-m", "tui", "--config", str(self.config), "--job", self.name,
             *args], capture_output=True, text=True, env=env, timeout=120,
            stdin=subprocess.DEVNULL)
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def run(self, *args: str) -> Result:
        return self.cli("run", "--offline", *args)

    def markers(self) -> list[Marker]:
        if not self.log.exists():
            return []
        found = []
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            m = parse_marker(line)
            if m is not None:
                found.append(m)
        return found

    def last_end(self) -> Marker:
        ends = [m for m in self.markers() if m.kind is not MarkerKind.START]
        assert ends, "no end marker in the log"
        return ends[-1]

    def last_start(self) -> Marker:
        starts = [m for m in self.markers() if m.kind is MarkerKind.START]
        assert starts, "no start marker in the log"
        return starts[-1]

    def summary_data(self) -> dict[str, object]:
        data = json.loads(self.summary.read_text(encoding="utf-8"))
        assert isinstance(data, dict)
        return data


@pytest.fixture
def mirror(tmp_path: Path) -> MirrorJob:
    job = MirrorJob(tmp_path)
    job.src.mkdir()
    job.configure()
    return job


@pytest.fixture
def seeded(mirror: MirrorJob) -> Callable[[int], Fingerprint]:
    """Fill the source with n small files in three top-level folders, sync them for real,
    and return the destination's fingerprint."""

    def seed(n: int = 12) -> Fingerprint:
        for i in range(n):
            folder = ("docs", "photos", "music")[i % 3]
            write(mirror.src / folder / f"f{i:03d}.bin", os.urandom(100 + 37 * i))
        res = mirror.run()
        assert res.code == 0, res.stderr
        fp = fingerprint(mirror.dst)
        assert len([p for p in fp if p.endswith(".bin")]) == n
        return fp

    return seed
