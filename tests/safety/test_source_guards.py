"""Source sanity guards with the real runner, the real rclone and a real destination:
each refusal exits 78, names its cause in the end marker, and loses nothing."""

from __future__ import annotations

import shutil
from collections.abc import Callable

from safety_helpers import Fingerprint, MirrorJob, assert_nothing_lost, write

from tui.core.markers import MarkerKind

SENTINEL = ".space-mirror-sentinel"


def _refused(mirror: MirrorJob, res_code: int, needle: str) -> None:
    assert res_code == 78
    end = mirror.last_end()
    assert end.kind is MarkerKind.FAILED and end.exit_code == 78
    assert needle in end.fields["reason"], end.fields["reason"]
    assert end.fields["deletes"] == "0"


def test_emptied_source_is_refused_and_nothing_lost(
        mirror: MirrorJob, seeded: Callable[[int], Fingerprint]) -> None:
    before = seeded(9)
    shutil.rmtree(mirror.src)
    mirror.src.mkdir()
    res = mirror.run()
    _refused(mirror, res.code, "is empty")
    assert "empty" in res.stderr
    # --force never overrides an empty source.
    res = mirror.run("--force")
    _refused(mirror, res.code, "is empty")
    assert_nothing_lost(before, mirror.dst)


def test_source_of_only_empty_folders_is_refused(
        mirror: MirrorJob, seeded: Callable[[int], Fingerprint]) -> None:
    # The pre-flight sees entries at the top; only counting files finds the source empty.
    before = seeded(6)
    for folder in ("docs", "photos", "music"):
        shutil.rmtree(mirror.src / folder)
        (mirror.src / folder).mkdir()
    res = mirror.run("--force")
    _refused(mirror, res.code, "empty: ")
    # --force overrode the ratio guard (0 of 6), but an empty source is still refused.
    assert mirror.last_start().fields["forced"] == "ratio"
    assert_nothing_lost(before, mirror.dst)


def test_unmounted_source_is_refused_and_nothing_lost(
        mirror: MirrorJob, seeded: Callable[[int], Fingerprint]) -> None:
    before = seeded(6)
    mirror.configure(require_mount=True)  # the source is a plain folder, not a mount point
    res = mirror.run()
    _refused(mirror, res.code, "not a mount point")
    assert_nothing_lost(before, mirror.dst)


def test_missing_sentinel_is_refused_and_nothing_lost(
        mirror: MirrorJob, seeded: Callable[[int], Fingerprint]) -> None:
    write(mirror.src / SENTINEL, b"mirror of src\n")
    before = seeded(6)
    mirror.configure(sentinel=SENTINEL)
    (mirror.src / SENTINEL).unlink()
    (mirror.src / "docs" / "f000.bin").unlink()  # a delete is pending: it must not happen
    res = mirror.run()
    _refused(mirror, res.code, "sentinel")
    assert SENTINEL in res.stderr
    assert_nothing_lost(before, mirror.dst)
    # --force overrides it, and the start marker names the guard it overrode.
    res = mirror.run("--force")
    assert res.code == 0, res.stderr
    assert mirror.last_start().fields["forced"] == "sentinel"
    assert not (mirror.dst / "docs" / "f000.bin").exists()


def test_source_shrunk_below_ratio_is_refused_and_nothing_lost(
        mirror: MirrorJob, seeded: Callable[[int], Fingerprint]) -> None:
    before = seeded(12)
    assert mirror.summary_data()["last_success_source_files"] == 12
    for i in range(7):  # 5 of 12 left: 42 % < 50 %
        next(mirror.src.rglob(f"f{i:03d}.bin")).unlink()
    res = mirror.run()
    _refused(mirror, res.code, "ratio: ")
    assert "5 files, 42% of the 12" in res.stderr
    assert_nothing_lost(before, mirror.dst)
    # A refused run leaves the baseline of the last successful sync as it was.
    data = mirror.summary_data()
    assert data["last_success_source_files"] == 12
    assert data["source_files"] == 5


def test_force_overrides_ratio_but_the_delete_guard_still_caps(
        mirror: MirrorJob, seeded: Callable[[int], Fingerprint]) -> None:
    seeded(12)
    for i in range(8):  # 4 of 12 left: 8 deletes, above the default cap of 50 % of 12 = 6
        next(mirror.src.rglob(f"f{i:03d}.bin")).unlink()
    res = mirror.run("--force")
    assert res.code == 7
    start = mirror.last_start()
    assert start.fields["forced"] == "ratio"
    assert start.fields["max_delete"] == "6"
    end = mirror.last_end()
    assert end.fields["reason"].startswith("max-delete guard reached, 6 of 6")
    assert len(list(mirror.dst.rglob("*.bin"))) == 12 - 6
    # Explicitly allowed: the sync completes and the baseline follows the smaller source.
    res = mirror.run("--force", "--allow-deletes", "2")
    assert res.code == 0, res.stderr
    assert mirror.last_start().fields["max_delete"] == "2"
    assert mirror.summary_data()["last_success_source_files"] == 4


def test_check_shows_the_source_guards(mirror: MirrorJob,
                                       seeded: Callable[[int], Fingerprint]) -> None:
    seeded(6)
    ok = mirror.cli("check", "--offline")
    assert ok.code == 0, ok.stdout
    assert "✓ empty: " in ok.stdout and "holds 6 files" in ok.stdout
    for p in ("docs/f000.bin", "photos/f001.bin", "music/f002.bin", "docs/f003.bin"):
        (mirror.src / p).unlink()
    bad = mirror.cli("check", "--offline")
    assert bad.code == 78
    assert "✗ ratio: " in bad.stdout
