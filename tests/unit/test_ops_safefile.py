"""safefile: files we write are ours alone; folders others can write to are named."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tui.ops import safefile


def test_open_private_refuses_a_symlink_and_sets_the_mode(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.write_text("keep")
    link = tmp_path / "link"
    link.symlink_to(target)
    with pytest.raises(safefile.UnsafeFile, match="symbolic link"):
        safefile.open_private(link, os.O_RDWR | os.O_CREAT, 0o600)
    assert target.read_text() == "keep"
    fd = safefile.open_private(tmp_path / "new", os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o600


def test_open_private_refuses_a_file_others_can_write(tmp_path: Path) -> None:
    p = tmp_path / "f"
    p.write_text("x")
    p.chmod(0o666)
    with pytest.raises(safefile.UnsafeFile, match="other users can write"):
        safefile.open_private(p, os.O_RDWR, 0o600)


def test_write_atomic_sets_the_mode_without_a_name(tmp_path: Path) -> None:
    p = tmp_path / "m.prom"
    safefile.write_atomic(p, b"a 1\n", 0o644)
    assert p.read_bytes() == b"a 1\n" and stat.S_IMODE(p.stat().st_mode) == 0o644
    assert [x.name for x in tmp_path.iterdir()] == ["m.prom"]


def test_shared_folder_rules(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o755)
    assert safefile.shared_folder(private / "f") is None
    sticky = tmp_path / "sticky"
    sticky.mkdir()
    sticky.chmod(0o1777)
    assert safefile.shared_folder(sticky / "f") == sticky  # the file's own folder: never
    (sticky / "mine").mkdir(mode=0o700)
    assert safefile.shared_folder(sticky / "mine" / "f") is None  # sticky further up: fine
    open_ = tmp_path / "open"
    open_.mkdir()
    open_.chmod(0o777)
    (open_ / "mine").mkdir(mode=0o700)
    assert safefile.shared_folder(open_ / "mine" / "f") == open_  # others may rename "mine"
    assert safefile.shared_folder(open_ / "not" / "made" / "f") == open_


def test_make_private_dir(tmp_path: Path) -> None:
    d = tmp_path / "run" / "job"
    safefile.make_private_dir(d)
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    d.chmod(0o777)
    with pytest.raises(safefile.UnsafeFile):
        safefile.make_private_dir(d)
