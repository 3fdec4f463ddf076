"""Rotated .gz files are inflated with zlib directly, several at a time: the same runs as
reading them one by one with the gzip module, whatever the file's members or padding."""

from __future__ import annotations

import gzip
import itertools
import shutil
from pathlib import Path

from tui.core.history import scan_history
from tui.core.history.files import GzPrefetch, read_gz

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "history" / "mixed.log"


def test_members_and_padding_read_like_gzip(tmp_path: Path) -> None:
    data = FIXTURE.read_bytes()
    half = data.index(b"\n[", len(data) // 2) + 1
    path = tmp_path / "space-mirror.log.2.gz"
    # logrotate's gzip writes one member; `cat a.gz b.gz` (or a resumed rotation) makes two.
    path.write_bytes(gzip.compress(data[:half]) + gzip.compress(data[half:]) + b"\0" * 512)
    warnings: list[object] = []
    assert read_gz(path, warnings) == data
    assert warnings == []


def test_prefetched_rotations_give_the_same_history(tmp_path: Path) -> None:
    plain = tmp_path / "plain" / "space-mirror.log"
    rotated = tmp_path / "rotated" / "space-mirror.log"
    plain.parent.mkdir()
    rotated.parent.mkdir()
    shutil.copyfile(FIXTURE, plain)
    data = FIXTURE.read_bytes()
    cuts = [0]
    for i in range(1, 5):
        cuts.append(data.index(b"\n[", i * len(data) // 5) + 1)
    cuts.append(len(data))
    pieces = [data[a:b] for a, b in itertools.pairwise(cuts)]
    for age, piece in enumerate(reversed(pieces)):
        name = rotated if age == 0 else Path(f"{rotated}.{age}.gz")
        name.write_bytes(piece if age == 0 else gzip.compress(piece))
    gz = sorted(rotated.parent.glob("*.gz"), reverse=True)
    prefetch = GzPrefetch(gz, ahead=2)
    try:
        assert [prefetch.read(p, []) for p in gz] == [gzip.decompress(p.read_bytes()) for p in gz]
    finally:
        prefetch.close()
    want = [r.as_json() for r in scan_history(plain, use_cache=False).runs]
    got = [r.as_json() for r in scan_history(rotated, use_cache=False).runs]
    assert [(r["outcome"], r["transfers"], r["error_classes"]) for r in got] == \
        [(r["outcome"], r["transfers"], r["error_classes"]) for r in want]
